// Meridian dashboard: the cluster panel, the Raft summary and a row per
// member. Text only (the rules are at the top of dashboard.js).

import { errorText } from "./api.js";
import { badge, byId, el, sub } from "./dom.js";
import { duration } from "./format.js";

/** From /api/v1/cluster; `status` (/api/v1/status) tells a node alone. */
export function renderCluster(reply, status) {
  const summary = byId("cluster-summary");
  const table = byId("members");
  if (reply.status === 404 || (status.ok && status.body && status.body.cluster === null)) {
    summary.textContent = "This node runs alone (no cluster: section in its config).";
    table.replaceChildren();
    return;
  }
  if (!reply.ok || !reply.body) {
    summary.textContent = "cluster: " + errorText(reply);
    return;
  }
  const c = reply.body;
  summary.textContent = "leader " + (c.leader || "none") + " · term " + c.term + " · commit " + c.commit +
    " · applied " + c.applied + " · log " + c.first_index + ".." + c.last_index;
  const head = el("thead", null, el("tr", null, el("th", { text: "Member" }), el("th", { text: "Role" }),
    el("th", { className: "num wide-only", text: "Term" }), el("th", { className: "num wide-only", text: "Commit" }),
    el("th", { className: "num", text: "Applied" }), el("th", { className: "num", text: "Lag" }), el("th", { text: "Seen" })));
  const body = el("tbody");
  for (const m of c.members || []) {
    const role = m.reported ? m.role : "unknown";
    const seen = m.self ? "self" : m.reported ? duration(m.report_age_ms) + " ago" : "never";
    body.append(el("tr", { dataset: { member: m.name } },
      el("td", null, el("strong", { text: m.name }), sub((m.voter ? "voter" : "learner") + (m.self ? " · this node" : "") +
        (m.reachable === false ? " · unreachable" : ""))),
      el("td", null, badge(role, role === "leader" ? "up" : role === "follower" ? "" : "degraded")),
      el("td", { className: "num wide-only", text: m.reported ? m.term : "—" }),
      el("td", { className: "num wide-only", text: m.reported ? m.commit : "—" }),
      el("td", { className: "num", text: m.reported ? m.applied : "—" }),
      el("td", { className: "num", text: m.lag != null ? m.lag : "—" }),
      el("td", { text: seen })));
  }
  table.replaceChildren(head, body);
}
