// Meridian dashboard: times and numbers as the panels print them. Ages are
// measured on the server's clock: the one piece of state here is how far
// ours is off, set from each status answer by noteServerClock().

/** Closer than this, the clocks are taken to agree (and ages stay stable). */
const SKEW_TOLERANCE_MS = 2000;

/** Server clock minus ours, when they differ by more than the tolerance. */
let skewMs = 0;

/** From /api/v1/status: the server's clock now is its start plus its uptime. */
export function noteServerClock(startedMs, uptimeS) {
  const estimate = Number(startedMs) + Number(uptimeS) * 1000;
  const skew = Number.isFinite(estimate) && estimate > 0 ? estimate - Date.now() : 0;
  skewMs = Math.abs(skew) > SKEW_TOLERANCE_MS ? skew : 0;
}

function serverNow() {
  return Date.now() + skewMs;
}

/** "12s", "3m 4s", "2h 5m", "3d 2h". */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m " + (s % 60) + "s";
  const h = Math.floor(m / 60);
  if (h < 48) return h + "h " + (m % 60) + "m";
  return Math.floor(h / 24) + "d " + (h % 24) + "h";
}

/** "just now", "3m 4s ago"; "—" for no time at all. */
export function ago(ms) {
  if (!ms) return "—";
  const d = serverNow() - ms;
  return d < 1000 ? "just now" : duration(d) + " ago";
}

/** "14:03:09", local time. */
export function clock(ms) {
  const t = new Date(ms);
  return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** "2024-05-01T12:03:09Z" (no milliseconds); "" for no time. */
export function iso(ms) {
  return ms ? new Date(ms).toISOString().replace(/\.\d+Z$/, "Z") : "";
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten that is >= v: a chart's
 *  top line. 1 when there is nothing to show. */
export function niceCeiling(v) {
  if (!(v > 0)) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(v)));
  for (const step of [1, 2, 2.5, 5, 10]) if (v <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

/** Queries per second, short: "0", "0.25", "42", "1.5k", "12k". */
export function formatRate(v) {
  if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k";
  if (v >= 10 || v === 0) return String(Math.round(v));
  return String(Number(v.toFixed(2)));
}
