// Meridian dashboard: the services panel, one table per steered service with
// a row per endpoint: whether it is in answers, what the probes see, and its
// override. Text only (the rules are at the top of dashboard.js).

import { errorText } from "./api.js";
import { badge, byId, el, empty, sub } from "./dom.js";
import { prefillExplainName } from "./explain.js";
import { ago, iso } from "./format.js";
import { overrideButton, overrideCell } from "./overrides.js";

// Also each cell's data-label: narrow screens show a row as labelled lines.
const COLUMNS = ["Endpoint", "Site", "In answers", "Probed here", "Since", "Reason", "Latency", "Override", ""];
const LATENCY_COLUMN = 6;

/** From /api/v1/services. inCluster: true, false, or null before the first status. */
export function renderServices(reply, inCluster) {
  const root = byId("services");
  if (!reply.ok || !reply.body || !Array.isArray(reply.body.services)) {
    root.replaceChildren(empty("services: " + errorText(reply)));
    return;
  }
  const services = reply.body.services;
  if (!services.length) {
    root.replaceChildren(empty("This node serves no steered service."));
    return;
  }
  prefillExplainName(services[0].name);
  root.replaceChildren(...services.map((service) => serviceBlock(service, inCluster)));
}

function serviceBlock(service, inCluster) {
  const head = el("thead", null, el("tr", null,
    ...COLUMNS.map((text, i) => el("th", { className: i === LATENCY_COLUMN ? "num" : null, text }))));
  const body = el("tbody");
  for (const e of service.endpoints || []) {
    const address = (e.addresses && e.addresses[0]) || e.target;
    const override = e.override && e.override.state ? e.override : null;
    const drained = override && override.state !== "up";
    let verdictNote = e.source || "";
    if (e.cluster_verdict) verdictNote += (verdictNote ? " · " : "") + "cluster: " + e.cluster_verdict;
    const cells = [
      el("td", null, el("strong", { className: "mono", text: (e.addresses || []).join(", ") || "—" }),
        sub(e.check && e.check !== "none" ? e.check + " → " + e.target : "not checked")),
      el("td", { text: e.site }),
      el("td", null, badge(e.usable ? "usable" : "not usable", e.usable ? "usable" : "unusable"),
        e.stale ? badge("stale", "stale") : null, sub(verdictNote)),
      el("td", null, badge(e.probed, e.probed)),
      el("td", { className: "nowrap", title: iso(e.since_ms), text: e.since_ms ? ago(e.since_ms) : "—" }),
      el("td", { className: "reason", text: e.reason || "—" }),
      el("td", { className: "num nowrap", text: e.latency_ms == null ? "—" : Number(e.latency_ms).toFixed(1) + " ms" }),
      el("td", null, overrideCell(override)),
      el("td", null, inCluster === true ? overrideButton("endpoint", address, override) : null),
    ];
    cells.forEach((cell, i) => { if (COLUMNS[i]) cell.dataset.label = COLUMNS[i]; });
    const classes = [drained ? "is-drained" : "", e.usable ? "" : "is-unusable"].filter(Boolean).join(" ");
    body.append(el("tr", { className: classes || null, dataset: { endpoint: address, site: e.site, usable: String(!!e.usable) } }, ...cells));
  }
  return el("div", { className: "service", dataset: { service: service.name } },
    el("h3", null, service.name, sub(service.policy + " · TTL " + service.ttl + "s")),
    el("div", { className: "scroll" }, el("table", { className: "data endpoints" }, head, body)));
}
