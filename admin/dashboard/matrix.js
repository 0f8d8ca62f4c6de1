// Meridian dashboard: the health matrix, what each node's probes see of each
// target, and the cluster's verdict. Text only (the rules are at the top of
// dashboard.js).

import { errorText } from "./api.js";
import { badge, byId, el } from "./dom.js";

/** From /api/v1/health/matrix. inCluster: true, false, or null before the
 *  first status. */
export function renderMatrix(reply, inCluster) {
  const table = byId("matrix");
  if (!reply.ok || !reply.body || !Array.isArray(reply.body.targets)) {
    table.replaceChildren(el("caption", { className: "empty", text: "health matrix: " + errorText(reply) }));
    return;
  }
  const observers = reply.body.observers || [];
  const targets = reply.body.targets;
  if (!observers.length || !targets.length) {
    const why = inCluster === false ? "Not in a cluster: this node's own probes are in the services."
      : !targets.length ? "Nothing is probed." : "No node has reported what it sees yet.";
    table.replaceChildren(el("caption", { className: "empty", text: why }));
    return;
  }
  const head = el("thead", null, el("tr", null, el("th", { text: "Target" }), el("th", { text: "Site" }),
    ...observers.map((o) => el("th", { className: "observer" + (o.live ? "" : " dead"), title: o.live ? "live observer" : "no live lease: not counted", text: o.name })),
    el("th", { text: "Verdict" })));
  const body = el("tbody");
  for (const t of targets) {
    const views = t.views || {};
    body.append(el("tr", null, el("td", { className: "mono", text: t.target }), el("td", { text: t.site }),
      ...observers.map((o) => el("td", { className: "cell" }, badge(views[o.name] || "unknown", views[o.name] || "unknown"))),
      el("td", null, t.verdict ? badge(t.verdict, t.verdict) : el("span", { className: "sub", text: "—" }), t.stale ? badge("stale", "stale") : null)));
  }
  table.replaceChildren(head, body);
}
