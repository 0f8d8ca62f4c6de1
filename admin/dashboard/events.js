// Meridian dashboard: the events panel, the cluster's event log, newest
// first. Text only (the rules are at the top of dashboard.js).

import { errorText } from "./api.js";
import { badge, byId, el } from "./dom.js";
import { ago, clock, iso } from "./format.js";

/** How many events are asked for and shown. */
export const EVENT_COUNT = 50;

/** From /api/v1/events (404 on a node alone). */
export function renderEvents(reply) {
  const list = byId("events");
  if (reply.status === 404) {
    list.replaceChildren(el("li", { className: "empty", text: "No event log: this node runs alone." }));
    return;
  }
  if (!reply.ok || !reply.body || !Array.isArray(reply.body.events)) {
    list.replaceChildren(el("li", { className: "empty", text: "events: " + errorText(reply) }));
    return;
  }
  const events = reply.body.events.slice(0, EVENT_COUNT);
  if (!events.length) {
    list.replaceChildren(el("li", { className: "empty", text: "Nothing happened yet." }));
    return;
  }
  list.replaceChildren(...events.map((e) => {
    const detail = String(e.detail || "");
    return el("li", { dataset: { id: e.id } },
      el("time", { datetime: iso(e.time_ms), title: iso(e.time_ms) + " (" + ago(e.time_ms) + ")", text: clock(e.time_ms) }),
      el("span", { className: "kind" }, badge(e.kind, badgeKind(e.kind, detail))),
      el("span", { className: "text" }, e.subject + (detail ? ": " + detail : ""),
        e.author ? el("span", { className: "author", text: " (" + e.author + ")" }) : null));
  }));
}

// The badge's colour: a drain, a return to service, or a verdict's direction.
function badgeKind(kind, detail) {
  if (kind === "override") return "drained";
  if (kind === "override-removed" || kind === "override-expired") return "up";
  if (kind === "verdict") return /^down/.test(detail) ? "down" : /^up/.test(detail) ? "up" : "";
  return "";
}
