// Meridian dashboard: the query-rate panel, an SVG line chart of queries per
// second, one line per site and a dashed total, with a legend. Text only
// (the rules are at the top of dashboard.js).

import { errorText } from "./api.js";
import { byId, el, empty, svg } from "./dom.js";
import { formatRate, niceCeiling } from "./format.js";

const PALETTE = ["#2a6fdb", "#23945a", "#d28a0c", "#d23f3a", "#6f62c7", "#1b9aaa", "#b5478f", "#7a8b2b"];

/** From /api/v1/stats; `sitesReply` (/api/v1/sites) orders the lines. */
export function renderRate(reply, sitesReply) {
  const root = byId("rate");
  const samples = reply.ok && reply.body && Array.isArray(reply.body.samples) ? reply.body.samples : [];
  if (!samples.length) {
    root.replaceChildren(empty(reply.ok || reply.status === 404 ? "no data yet" : "no data yet (" + errorText(reply) + ")"));
    return;
  }
  // One line per site (in the order of /api/v1/sites, then any other), and the total.
  const names = [];
  if (sitesReply.ok && sitesReply.body && Array.isArray(sitesReply.body.sites)) {
    for (const s of sitesReply.body.sites) names.push(s.name);
  }
  for (const sample of samples) {
    for (const name of Object.keys(sample.sites || {})) if (!names.includes(name)) names.push(name);
  }
  const series = [{ name: "total", colour: "currentColor", dashed: true, value: (s) => Number(s.total_qps) || 0 }];
  names.forEach((name, i) => series.push({ name, colour: PALETTE[i % PALETTE.length], value: (s) => Number((s.sites || {})[name]) || 0 }));

  // One unit per pixel of the panel, so the text keeps its size on a phone.
  const W = Math.max(Math.round(root.getBoundingClientRect().width) || 600, 280), H = 180;
  const left = 44, right = 8, top = 8, bottom = 22;
  const t0 = Number(samples[0].t_ms), t1 = Number(samples[samples.length - 1].t_ms);
  const span = Math.max(t1 - t0, 1);
  let max = 0;
  for (const s of samples) for (const line of series) max = Math.max(max, line.value(s));
  const yMax = niceCeiling(max);
  const px = (t) => left + (samples.length === 1 ? (W - left - right) : ((t - t0) / span) * (W - left - right));
  const py = (v) => top + (1 - v / yMax) * (H - top - bottom);
  const chart = svg("svg", { className: "chart", viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "queries per second by site" });
  for (const v of [0, yMax / 2, yMax]) {
    chart.append(svg("line", { className: "axis", x1: left, x2: W - right, y1: py(v), y2: py(v) }));
    chart.append(svg("text", { className: "tick", x: left - 6, y: py(v) + 4, "text-anchor": "end", text: formatRate(v) }));
  }
  if (samples.length > 1) {
    const since = span >= 60000 ? Math.round(span / 60000) + " min ago" : Math.round(span / 1000) + " s ago";
    chart.append(svg("text", { className: "tick", x: left, y: H - 5, text: since }));
  }
  chart.append(svg("text", { className: "tick", x: W - right, y: H - 5, "text-anchor": "end", text: "now" }));
  for (const line of series) {
    const points = samples.map((s) => px(Number(s.t_ms)).toFixed(1) + "," + py(line.value(s)).toFixed(1));
    const attrs = { className: "line", points: points.join(" "), stroke: line.colour };
    if (line.dashed) attrs["stroke-dasharray"] = "5 4";
    chart.append(svg("polyline", attrs));
    if (samples.length === 1) chart.append(svg("circle", { cx: px(t0), cy: py(line.value(samples[0])), r: 3, fill: line.colour }));
  }
  const last = samples[samples.length - 1];
  const legend = el("ul", { className: "legend" }, ...series.map((line) => {
    const swatch = el("span", { className: "swatch" });
    swatch.style.background = line.colour;
    return el("li", null, swatch, line.name + " " + formatRate(line.value(last)) + "/s");
  }));
  const interval = reply.body.interval_s ? "one point per " + reply.body.interval_s + " s" : "";
  root.replaceChildren(chart, legend, interval ? el("p", { className: "empty", text: interval }) : "");
}
