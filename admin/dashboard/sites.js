// Meridian dashboard: the sites panel, a table of the sites (and the map,
// map.js). Text only (the rules are at the top of dashboard.js).

import { errorText } from "./api.js";
import { badge, byId, el, sub } from "./dom.js";
import { drawMap } from "./map.js";
import { overrideButton, overrideCell } from "./overrides.js";

/** From /api/v1/sites; `status` (/api/v1/status) names this node's site.
 *  inCluster: true, false, or null before the first status. */
export function renderSites(reply, status, inCluster) {
  const table = byId("sites");
  if (!reply.ok || !reply.body || !Array.isArray(reply.body.sites)) {
    table.replaceChildren(el("caption", { className: "empty", text: "sites: " + errorText(reply) }));
    return;
  }
  const sites = reply.body.sites;
  const self = status.ok && status.body ? status.body.site : null;
  drawMap(sites, self);
  const head = el("thead", null,
    el("tr", null, el("th", { text: "Site" }), el("th", { text: "State" }), el("th", { className: "num", text: "Usable" }),
      el("th", { className: "wide-only", text: "Where" }), el("th", { text: "Override" }), el("th", { text: "" })));
  const body = el("tbody");
  for (const site of sites) {
    const overridden = site.override && site.override.state;
    body.append(el("tr", { dataset: { site: site.name } },
      el("td", null, el("strong", { text: site.name }), site.name === self ? sub("this node") : null),
      el("td", null, badge(site.state, site.state)),
      el("td", { className: "num", text: site.usable + " / " + site.endpoints }),
      el("td", { className: "mono wide-only", text: Number(site.lat).toFixed(1) + ", " + Number(site.lon).toFixed(1) }),
      el("td", null, overrideCell(site.override)),
      el("td", null, inCluster === true ? overrideButton("site", site.name, overridden) : null)));
  }
  table.replaceChildren(head, body);
}
