// Meridian dashboard: reads the node's JSON API every two seconds (every
// fifteen while the tab is hidden) and renders it. Plain DOM, no framework,
// nothing from other origins (the page's Content-Security-Policy forbids it).
//
// Rules kept throughout:
//  - Every piece of data reaches the page through textContent or
//    setAttribute, never parsed as markup: names, reasons and authors are
//    text (tests/admin/dashboard_test.cpp bans the markup sinks here).
//  - The admin token lives in one variable of this closure, only after an
//    operator typed it, and only until the page is reloaded: never in web
//    storage, a cookie or a URL, and only sent as an Authorization header
//    with POST /api/v1/overrides.
//  - A panel whose data is missing says so; one failing request never
//    stops the others.
"use strict";

(() => {
  const POLL_MS = 2000;
  const HIDDEN_POLL_MS = 15000;
  const REQUEST_TIMEOUT_MS = 5000;
  const POST_TIMEOUT_MS = 10000;
  const EVENT_COUNT = 50;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2a6fdb", "#23945a", "#d28a0c", "#d23f3a", "#6f62c7", "#1b9aaa", "#b5478f", "#7a8b2b"];

  /** Only in memory: see the rules above. */
  let adminToken = null;
  let author = "";
  /** Server clock minus ours, when they differ by more than 2 s. */
  let skewMs = 0;
  let timer = null;
  let polling = false;
  let pollAgain = false;
  let explainPrefilled = false;
  /** Overrides live in the cluster's store: a node alone has none to change.
   *  null until the first status arrives. */
  let inCluster = null;
  let operation = null;  // what the open dialog will do
  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers: text only ----------------------------------------

  /** An element; `props` sets className, text, title, dataset and other
   *  attributes; children are nodes or strings (as text). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    setProps(node, props);
    for (const child of children) appendChild(node, child);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setProps(node, attrs);
    for (const child of children) appendChild(node, child);
    return node;
  }

  function setProps(node, props) {
    if (!props) return;
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.setAttribute("class", value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "onclick") node.addEventListener("click", value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
  }

  function appendChild(node, child) {
    if (child === undefined || child === null || child === false) return;
    node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }

  function badge(text, kind) {
    return el("span", { className: "badge " + String(kind || "").replace(/[^a-z-]/gi, ""), text });
  }

  function sub(text) {
    return el("span", { className: "sub", text });
  }

  function empty(text) {
    return el("p", { className: "empty", text });
  }

  // ---- time ------------------------------------------------------------

  function serverNow() {
    return Date.now() + skewMs;
  }

  /** "12s", "3m 4s", "2h 5m", "3d 2h". */
  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + "m " + (s % 60) + "s";
    const h = Math.floor(m / 60);
    if (h < 48) return h + "h " + (m % 60) + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }

  function ago(ms) {
    if (!ms) return "—";
    const d = serverNow() - ms;
    return d < 1000 ? "just now" : duration(d) + " ago";
  }

  function clock(ms) {
    const t = new Date(ms);
    return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
  }

  function iso(ms) {
    return ms ? new Date(ms).toISOString().replace(/\.\d+Z$/, "Z") : "";
  }

  // ---- requests --------------------------------------------------------

  /** GET path -> {ok, status, body}; never throws. */
  async function getJson(path) {
    try {
      const response = await fetch(path, {
        headers: { Accept: "application/json" },
        cache: "no-store",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      let body = null;
      try {
        body = await response.json();
      } catch (_) {
        body = null;
      }
      return { ok: response.ok, status: response.status, body };
    } catch (error) {
      return { ok: false, status: 0, body: null, error: error && error.name === "TimeoutError" ? "timed out" : "unreachable" };
    }
  }

  function errorText(reply) {
    if (reply.body && typeof reply.body.error === "string") return reply.status + ": " + reply.body.error;
    if (reply.status) return "HTTP " + reply.status;
    return reply.error || "no answer";
  }

  // ---- polling ---------------------------------------------------------

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }

  function pollNow() {
    if (polling) {
      pollAgain = true;
      return;
    }
    clearTimeout(timer);
    poll();
  }

  async function poll() {
    polling = true;
    // A node known to run alone has no cluster routes: not asked again.
    const alone = { ok: false, status: 404, body: null };
    const [status, sites, services, matrix, cluster, events, stats] = await Promise.all([
      getJson("/api/v1/status"),
      getJson("/api/v1/sites"),
      getJson("/api/v1/services"),
      getJson("/api/v1/health/matrix"),
      inCluster === false ? alone : getJson("/api/v1/cluster"),
      inCluster === false ? alone : getJson("/api/v1/events?limit=" + EVENT_COUNT),
      getJson("/api/v1/stats"),
    ]);
    const live = $("live");
    if (status.ok && status.body) {
      inCluster = status.body.cluster != null;
      const estimate = Number(status.body.started_ms) + Number(status.body.uptime_s) * 1000;
      const skew = Number.isFinite(estimate) && estimate > 0 ? estimate - Date.now() : 0;
      skewMs = Math.abs(skew) > 2000 ? skew : 0;
      live.dataset.state = document.hidden ? "paused" : "live";
      live.textContent = (document.hidden ? "paused · " : "live · ") + "updated " + clock(Date.now());
    } else {
      live.dataset.state = "error";
      live.textContent = "cannot reach the node (" + errorText(status) + ")";
    }
    const panels = [
      () => renderHeader(status),
      () => renderSites(sites, status),
      () => renderServices(services),
      () => renderMatrix(matrix),
      () => renderCluster(cluster, status),
      () => renderRate(stats, sites),
      () => renderEvents(events),
    ];
    for (const render of panels) {
      try {
        render();
      } catch (error) {
        console.error("dashboard: a panel failed to render", error);
      }
    }
    polling = false;
    if (pollAgain) {
      pollAgain = false;
      poll();
    } else {
      schedule();
    }
  }

  // ---- header ----------------------------------------------------------

  function renderHeader(reply) {
    const node = $("node");
    if (!reply.ok || !reply.body) return;  // keep the last one; "live" says why
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

  // ---- sites and the map -------------------------------------------------

  function renderSites(reply, status) {
    const table = $("sites");
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
        el("td", null, inCluster !== true ? null : overridden
          ? el("button", { className: "restore", type: "button", text: "Restore", onclick: () => openOperation("site", site.name, "restore") })
          : el("button", { className: "danger", type: "button", text: "Drain", onclick: () => openOperation("site", site.name, "drain") }))));
    }
    table.replaceChildren(head, body);
  }

  function drawMap(sites, self) {
    const map = $("map");
    const world = window.MeridianWorld;
    const north = world ? world.north : 84;
    const south = world ? world.south : -58;
    const height = north - south;
    const x = (lon) => Number(lon) + 180;
    const y = (lat) => north - Number(lat);
    map.setAttribute("viewBox", "0 0 360 " + height);
    if (!map.dataset.drawn) {
      // The land and the graticule once; the sites on every update.
      let d = "";
      for (const ring of world ? world.land : []) {
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
    const layer = $("map-sites");
    // Dots and labels keep their size on screen: a map unit is `px` pixels.
    const unit = 360 / Math.max(map.getBoundingClientRect().width || 360, 120);
    const size = { font: 11.5 * unit, small: 9.5 * unit, dot: Math.max(4.5 * unit, 1.6), gap: 7 * unit };
    const placed = [];
    const marks = [];
    for (const site of sites) {
      const cx = x(site.lon);
      const cy = y(site.lat);
      const state = ["up", "degraded", "down", "drained"].includes(site.state) ? site.state : "unknown";
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

  function overrideCell(override) {
    if (!override || !override.state) return el("span", { className: "sub", text: "—" });
    const parts = [];
    if (override.author) parts.push("by " + override.author);
    if (override.reason) parts.push(override.reason);
    const until = override.expires_ms ? "until " + clock(override.expires_ms) : "";
    return el("span", null, badge(override.state, override.state),
      parts.length ? sub(parts.join(": ")) : null,
      until ? el("span", { className: "sub", title: iso(override.expires_ms), text: until }) : null);
  }

  // ---- services and endpoints ---------------------------------------------

  function renderServices(reply) {
    const root = $("services");
    if (!reply.ok || !reply.body || !Array.isArray(reply.body.services)) {
      root.replaceChildren(empty("services: " + errorText(reply)));
      return;
    }
    const services = reply.body.services;
    if (!services.length) {
      root.replaceChildren(empty("This node serves no steered service."));
      return;
    }
    if (!explainPrefilled) {
      const name = $("explain-name");
      if (!name.value && document.activeElement !== name) name.value = services[0].name.replace(/\.$/, "");
      explainPrefilled = true;
    }
    root.replaceChildren(...services.map(serviceBlock));
  }

  function serviceBlock(service) {
    const labels = ["Endpoint", "Site", "In answers", "Probed here", "Since", "Reason", "Latency", "Override", ""];
    const head = el("thead", null, el("tr", null, ...labels.map((text, i) => el("th", { className: i === 6 ? "num" : null, text }))));
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
        el("td", null, inCluster !== true ? null : override
          ? el("button", { className: "restore", type: "button", text: "Restore", onclick: () => openOperation("endpoint", address, "restore") })
          : el("button", { className: "danger", type: "button", text: "Drain", onclick: () => openOperation("endpoint", address, "drain") })),
      ];
      cells.forEach((cell, i) => { if (labels[i]) cell.dataset.label = labels[i]; });
      const classes = [drained ? "is-drained" : "", e.usable ? "" : "is-unusable"].filter(Boolean).join(" ");
      body.append(el("tr", { className: classes || null, dataset: { endpoint: address, site: e.site, usable: String(!!e.usable) } }, ...cells));
    }
    return el("div", { className: "service", dataset: { service: service.name } },
      el("h3", null, service.name, sub(service.policy + " · TTL " + service.ttl + "s")),
      el("div", { className: "scroll" }, el("table", { className: "data endpoints" }, head, body)));
  }

  // ---- health matrix -----------------------------------------------------

  function renderMatrix(reply) {
    const table = $("matrix");
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

  // ---- cluster -----------------------------------------------------------

  function renderCluster(reply, status) {
    const summary = $("cluster-summary");
    const table = $("members");
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

  // ---- query rate ----------------------------------------------------------

  function renderRate(reply, sitesReply) {
    const root = $("rate");
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

  function niceCeiling(v) {
    if (!(v > 0)) return 1;
    const magnitude = Math.pow(10, Math.floor(Math.log10(v)));
    for (const step of [1, 2, 2.5, 5, 10]) if (v <= step * magnitude) return step * magnitude;
    return 10 * magnitude;
  }

  function formatRate(v) {
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k";
    if (v >= 10 || v === 0) return String(Math.round(v));
    return String(Number(v.toFixed(2)));
  }

  // ---- events ---------------------------------------------------------------

  function renderEvents(reply) {
    const list = $("events");
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
      let kind = "";
      if (e.kind === "override") kind = "drained";
      else if (e.kind === "override-removed" || e.kind === "override-expired") kind = "up";
      else if (e.kind === "verdict") kind = /^down/.test(detail) ? "down" : /^up/.test(detail) ? "up" : "";
      return el("li", { dataset: { id: e.id } },
        el("time", { datetime: iso(e.time_ms), title: iso(e.time_ms) + " (" + ago(e.time_ms) + ")", text: clock(e.time_ms) }),
        el("span", { className: "kind" }, badge(e.kind, kind)),
        el("span", { className: "text" }, e.subject + (detail ? ": " + detail : ""),
          e.author ? el("span", { className: "author", text: " (" + e.author + ")" }) : null));
    }));
  }

  // ---- explain -----------------------------------------------------------------

  async function explain(event) {
    event.preventDefault();
    const out = $("explain-out");
    const query = new URLSearchParams({ name: $("explain-name").value.trim(), client: $("explain-client").value.trim() });
    const ecs = $("explain-ecs").value.trim();
    if (ecs) query.set("ecs", ecs);
    out.hidden = false;
    out.classList.remove("error");
    out.textContent = "asking…";
    const reply = await getJson("/api/v1/explain?" + query.toString());
    if (reply.ok && reply.body && typeof reply.body.text === "string") {
      out.textContent = reply.body.text;
    } else {
      out.classList.add("error");
      out.textContent = errorText(reply);
    }
  }

  // ---- drain and restore ---------------------------------------------------------

  /** kind: "endpoint" | "site"; action: "drain" | "restore". */
  function openOperation(kind, name, action) {
    operation = { kind, name, action };
    const dialog = $("op-dialog");
    const verb = action === "drain" ? "Drain" : "Restore";
    $("op-title").textContent = verb + " " + kind;
    $("op-what").textContent = action === "drain"
      ? kind + " " + name + ": out of every node's answers until restored"
      : kind + " " + name + ": remove the operator's override; health decides again";
    $("op-confirm").textContent = verb;
    $("op-for-label").hidden = action !== "drain";
    $("op-for").value = "";
    $("op-token").value = adminToken || "";
    $("op-forget").hidden = !adminToken;
    $("op-author").value = author;
    $("op-reason").value = "";
    showError("");
    $("op-confirm").disabled = false;
    dialog.showModal();
    (adminToken ? $("op-reason") : $("op-token")).focus();
  }

  function showError(text) {
    const error = $("op-error");
    error.textContent = text;
    error.hidden = !text;
  }

  async function confirmOperation(event) {
    event.preventDefault();
    if (!operation) return;
    const token = $("op-token").value.trim();
    if (!token) {
      showError("The admin token is needed (admin.token_file of the node's config).");
      return;
    }
    author = $("op-author").value.trim();
    const body = { [operation.kind]: operation.name, state: operation.action === "drain" ? "drain" : "none",
      author: author || "dashboard" };
    const reason = $("op-reason").value.trim();
    if (reason) body.reason = reason;
    if (operation.action === "drain" && $("op-for").value) body.for = $("op-for").value;
    const confirm = $("op-confirm");
    confirm.disabled = true;
    showError("");
    let reply;
    try {
      const response = await fetch("/api/v1/overrides", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: "Bearer " + token },
        body: JSON.stringify(body),
        cache: "no-store",
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      let json = null;
      try {
        json = await response.json();
      } catch (_) {
        json = null;
      }
      reply = { ok: response.ok, status: response.status, body: json };
    } catch (error) {
      reply = { ok: false, status: 0, body: null, error: error && error.name === "TimeoutError" ? "timed out: the outcome is unknown" : "the node did not answer" };
    }
    confirm.disabled = false;
    if (reply.ok) {
      adminToken = token;
      const done = operation;
      $("op-dialog").close();
      notice(done.kind + " " + done.name + ": " + (done.action === "drain" ? "drain" : "override removed") + " (sent)");
      pollNow();
      return;
    }
    if (reply.status === 401 || reply.status === 403) {
      adminToken = null;
      $("op-token").value = "";
      $("op-forget").hidden = true;
    }
    showError(errorText(reply));
  }

  let noticeTimer = null;
  function notice(text) {
    const note = $("notice");
    note.textContent = text;
    note.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { note.hidden = true; }, 8000);
  }

  // ---- start -------------------------------------------------------------------

  function start() {
    $("explain-form").addEventListener("submit", explain);
    $("op-form").addEventListener("submit", confirmOperation);
    $("op-cancel").addEventListener("click", () => $("op-dialog").close());
    $("op-forget").addEventListener("click", () => {
      adminToken = null;
      $("op-token").value = "";
      $("op-forget").hidden = true;
      $("op-token").focus();
    });
    // Whatever closes the dialog (Cancel, Esc, success), the typed token
    // leaves the DOM with it; only a token that worked stays, in memory.
    $("op-dialog").addEventListener("close", () => {
      $("op-token").value = "";
      operation = null;
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) pollNow();
    });
    poll();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
