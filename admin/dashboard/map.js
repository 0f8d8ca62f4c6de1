// Meridian dashboard: the sites panel's world map, an equirectangular SVG
// (one unit a degree) with a dot and a label per site. Text only (the rules
// are at the top of dashboard.js).

import { byId, svg } from "./dom.js";
import { worldOutline } from "./world.js";

const SITE_STATES = ["up", "degraded", "down", "drained"];

/** Draws `sites` (from /api/v1/sites) on #map; `self` is this node's site. */
export function drawMap(sites, self) {
  const map = byId("map");
  const north = worldOutline.north;
  const south = worldOutline.south;
  const height = north - south;
  const x = (lon) => Number(lon) + 180;
  const y = (lat) => north - Number(lat);
  map.setAttribute("viewBox", "0 0 360 " + height);
  if (!map.dataset.drawn) {
    // The land and the graticule once; the sites on every update.
    let d = "";
    for (const ring of worldOutline.land) {
      for (let i = 0; i + 1 < ring.length; i += 2) d += (i ? "L" : "M") + x(ring[i]).toFixed(1) + "," + y(ring[i + 1]).toFixed(1);
      d += "Z";
    }
    let grid = "";
    for (let lon = -150; lon < 180; lon += 30) grid += "M" + x(lon) + ",0V" + height;
    for (let lat = -30; lat <= 60; lat += 30) grid += "M0," + y(lat) + "H360";
    map.replaceChildren(svg("path", { className: "grid", d: grid }), svg("path", { className: "land", d }),
      svg("g", { id: "map-sites" }));
    map.dataset.drawn = "1";
  }
  const layer = byId("map-sites");
  // Dots and labels keep their size on screen: a pixel is `unit` map units.
  const unit = 360 / Math.max(map.getBoundingClientRect().width || 360, 120);
  const size = { font: 11.5 * unit, small: 9.5 * unit, dot: Math.max(4.5 * unit, 1.6), gap: 7 * unit };
  const placed = [];
  const marks = [];
  for (const site of sites) {
    const cx = x(site.lon);
    const cy = y(site.lat);
    const state = SITE_STATES.includes(site.state) ? site.state : "unknown";
    const label = labelPosition(cx, cy, site.name, placed, height, size);
    const g = svg("g", { className: "site", dataset: { site: site.name } },
      svg("title", { text: site.name + ": " + site.state + " (" + site.usable + "/" + site.endpoints + " usable)" }),
      site.name === self ? svg("circle", { className: "self", cx, cy, r: size.dot * 1.8, "stroke-width": unit * 1.5 }) : null,
      svg("circle", { className: "dot " + state, cx, cy, r: size.dot, "stroke-width": unit * 1.5 }),
      svg("text", { x: label.x, y: label.y, "text-anchor": label.anchor, "font-size": size.font, "stroke-width": unit * 3, text: site.name }),
      svg("text", { className: "state", x: label.x, y: label.y + size.small * 1.1, "text-anchor": label.anchor,
        "font-size": size.small, "stroke-width": unit * 3, text: site.state }));
    marks.push(g);
  }
  layer.replaceChildren(...marks);
}

/** Right of the dot, else left, below or above: the first spot whose box
 *  overlaps no label placed before. */
function labelPosition(cx, cy, name, placed, height, size) {
  const w = name.length * size.font * 0.62;
  const h = size.font + size.small * 1.2;
  const g = size.gap;
  const options = [
    { x: cx + g, y: cy + size.font * 0.35, anchor: "start", box: [cx + g, cy - size.font * 0.75, w, h] },
    { x: cx - g, y: cy + size.font * 0.35, anchor: "end", box: [cx - g - w, cy - size.font * 0.75, w, h] },
    { x: cx, y: cy + g + size.font, anchor: "middle", box: [cx - w / 2, cy + g, w, h] },
    { x: cx, y: cy - g - h + size.font, anchor: "middle", box: [cx - w / 2, cy - g - h, w, h] },
  ];
  const fits = (b) => b[0] >= 0 && b[0] + b[2] <= 360 && b[1] >= 0 && b[1] + b[3] <= height;
  const clear = (b) => placed.every((p) => b[0] + b[2] <= p[0] || p[0] + p[2] <= b[0] || b[1] + b[3] <= p[1] || p[1] + p[3] <= b[1]);
  const choice = options.find((o) => fits(o.box) && clear(o.box)) || options.find((o) => fits(o.box)) || options[0];
  placed.push(choice.box);
  return choice;
}
