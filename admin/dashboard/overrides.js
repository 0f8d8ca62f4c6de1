// Meridian dashboard: how an operator's override shows in the sites and
// services tables, and the Drain/Restore button that opens the dialog to
// change it (operation_dialog.js). Text only (the rules are at the top of
// dashboard.js).

import { badge, el, sub } from "./dom.js";
import { clock, iso } from "./format.js";
import { openOperation } from "./operation_dialog.js";

/** The override's state, who set it and why, and until when; "—" for none. */
export function overrideCell(override) {
  if (!override || !override.state) return el("span", { className: "sub", text: "—" });
  const parts = [];
  if (override.author) parts.push("by " + override.author);
  if (override.reason) parts.push(override.reason);
  const until = override.expires_ms ? "until " + clock(override.expires_ms) : "";
  return el("span", null, badge(override.state, override.state),
    parts.length ? sub(parts.join(": ")) : null,
    until ? el("span", { className: "sub", title: iso(override.expires_ms), text: until }) : null);
}

/** Restore when `overridden`, else Drain. kind: "endpoint" | "site". Only
 *  offered in a cluster: overrides live in its store. */
export function overrideButton(kind, name, overridden) {
  return overridden
    ? el("button", { className: "restore", type: "button", text: "Restore", onclick: () => openOperation(kind, name, "restore") })
    : el("button", { className: "danger", type: "button", text: "Drain", onclick: () => openOperation(kind, name, "drain") });
}
