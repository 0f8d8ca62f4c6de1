// Meridian dashboard: the page's header, what this node is (name, site,
// role, config, version, uptime) and whether the page is live. Text only
// (the rules are at the top of dashboard.js).

import { errorText } from "./api.js";
import { byId, el } from "./dom.js";
import { clock, duration } from "./format.js";

/** #node from /api/v1/status; a failed request keeps the last one (the live
 *  line says why). */
export function renderHeader(reply) {
  const node = byId("node");
  if (!reply.ok || !reply.body) return;
  const s = reply.body;
  const items = [["node", s.name], ["site", s.site]];
  if (s.cluster) {
    items.push(["role", s.cluster.role]);
    items.push(["leader", s.cluster.leader || "none"]);
    items.push(["term", s.cluster.term]);
  } else {
    items.push(["role", "single node"]);
  }
  if (s.config) {
    let config = s.config.serving != null ? "v" + s.config.serving : "own file";
    if (s.config.error) config += " (error)";
    else if (s.config.file_matches_committed === false) config += " (file differs)";
    items.push(["config", config]);
  }
  if (s.health && s.health.fallback) items.push(["health", "local fallback"]);
  items.push(["version", s.version]);
  items.push(["uptime", duration(Number(s.uptime_s) * 1000)]);
  node.replaceChildren(...items.map(([k, v]) => el("div", null, el("dt", { text: k }), el("dd", { text: String(v) }))));
  document.title = "Meridian · " + s.name;
}

/** #live after each poll: live or paused (a hidden tab polls less) and when,
 *  or why the node cannot be reached. */
export function renderLive(status) {
  const live = byId("live");
  if (status.ok && status.body) {
    live.dataset.state = document.hidden ? "paused" : "live";
    live.textContent = (document.hidden ? "paused · " : "live · ") + "updated " + clock(Date.now());
  } else if (status.status === 401 || status.status === 403) {
    // The node answers, but not without the admin token (unlock.js asks).
    live.dataset.state = "error";
    live.textContent = "the node needs the admin token to show its state";
  } else {
    live.dataset.state = "error";
    live.textContent = "cannot reach the node (" + errorText(status) + ")";
  }
}
