// Meridian dashboard: the cluster panel, the store's summary and a row per
// member: the built-in Raft store's members, or the etcd cluster's members
// and whether this node reaches each. Text only (the rules are at the top of
// dashboard.js).

import { errorText } from "./api.js";
import { badge, byId, el, sub } from "./dom.js";
import { duration } from "./format.js";

/** From /api/v1/cluster; `status` (/api/v1/status) tells a node alone. */
export function renderCluster(reply, status) {
  const summary = byId("cluster-summary");
  const table = byId("members");
  if (reply.status === 404 || (status.ok && status.body && status.body.cluster === null)) {
    summary.textContent = "This node runs alone (no cluster: or store: section in its config).";
    table.replaceChildren();
    return;
  }
  if (!reply.ok || !reply.body) {
    summary.textContent = "cluster: " + errorText(reply);
    return;
  }
  const c = reply.body;
  if (c.backend === "etcd") {
    renderEtcd(c, summary, table);
    return;
  }
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

/** The etcd store: etcd's leader, term and revision, this node's part in the
 * election, and each etcd member with whether this node reaches it. */
function renderEtcd(c, summary, table) {
  summary.textContent = "etcd store · leader " + (c.leader || "none (cut off)") + " · term " + c.term +
    " · revision " + c.revision + " · " + (c.role === "leader" ? "this node decides verdicts" : "another node decides verdicts");
  const head = el("thead", null, el("tr", null, el("th", { text: "etcd member" }), el("th", { text: "Role" }),
    el("th", { text: "Client address" }), el("th", { text: "Reached" })));
  const body = el("tbody");
  for (const m of c.members || []) {
    const role = m.reported ? m.role : "unknown";
    body.append(el("tr", { dataset: { member: m.name } },
      el("td", null, el("strong", { text: m.name })),
      el("td", null, badge(role, role === "leader" ? "up" : role === "follower" ? "" : "degraded")),
      el("td", { text: m.address || "—" }),
      el("td", null, badge(m.reachable === false ? "unreachable" : "reached", m.reachable === false ? "down" : "up"))));
  }
  table.replaceChildren(head, body);
}
