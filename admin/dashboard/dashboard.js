// Meridian dashboard: reads the node's JSON API every two seconds (every
// fifteen while the tab is hidden) and renders it. Plain DOM, no framework,
// no build step, nothing from other origins (the page's
// Content-Security-Policy forbids it). This is the entry module: the polling
// loop and the wiring; each panel is a module of its own (sites.js and
// map.js, services.js, matrix.js, cluster.js, rate_chart.js, events.js,
// header.js, explain.js, operation_dialog.js, unlock.js), built with dom.js,
// format.js and api.js.
//
// Rules kept throughout, in every module (the other modules refer here):
//  - Every piece of data reaches the page through textContent or
//    setAttribute, never parsed as markup: names, reasons and authors are
//    text (tests/admin/dashboard_test.cpp bans the markup sinks in every
//    served script).
//  - The admin token lives in one variable of api.js, only after an
//    operator typed it and the node accepted it, and only until the page is
//    reloaded: never in web storage, a cookie or a URL, and only sent as an
//    Authorization header, to this node's API (POST /api/v1/overrides, and
//    the reads of a node whose reads need it: unlock.js asks for it then).
//  - A panel whose data is missing says so; one failing request never
//    stops the others.

import { getJson } from "./api.js";
import { renderCluster } from "./cluster.js";
import { EVENT_COUNT, renderEvents } from "./events.js";
import { setUpExplain } from "./explain.js";
import { noteServerClock } from "./format.js";
import { renderHeader, renderLive } from "./header.js";
import { renderMatrix } from "./matrix.js";
import { setUpOperationDialog } from "./operation_dialog.js";
import { renderRate } from "./rate_chart.js";
import { renderServices } from "./services.js";
import { renderSites } from "./sites.js";
import { renderUnlock, setUpUnlock } from "./unlock.js";

const POLL_MS = 2000;
const HIDDEN_POLL_MS = 15000;

let timer = null;
let polling = false;
let pollAgain = false;
/** Overrides live in the cluster's store: a node alone has none to change.
 *  null until the first status arrives. */
let inCluster = null;

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
}

/** Polls at once, or right after the poll under way (its answers may
 *  predate what the caller just changed). */
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
  if (status.ok && status.body) {
    inCluster = status.body.cluster != null;
    noteServerClock(status.body.started_ms, status.body.uptime_s);
  }
  renderLive(status);
  renderUnlock(status);
  const panels = [
    () => renderHeader(status),
    () => renderSites(sites, status, inCluster),
    () => renderServices(services, inCluster),
    () => renderMatrix(matrix, inCluster),
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

function start() {
  setUpExplain();
  setUpOperationDialog(pollNow);
  setUpUnlock(pollNow);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) pollNow();
  });
  poll();
}

// A module runs once the document is parsed; the check keeps that true
// should the script tag ever change.
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
