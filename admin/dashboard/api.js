// Meridian dashboard: the requests to the node's JSON API, and the one place
// the admin token is kept (the token rule is at the top of dashboard.js).
// Every request has a deadline and answers {ok, status, body[, error]}; none
// throws, so one failing request never stops the others.

const REQUEST_TIMEOUT_MS = 5000;
const POST_TIMEOUT_MS = 10000;

/** Only in memory, only after the node accepted it, until the page is
 *  reloaded or the operator forgets it. */
let adminToken = null;

export function rememberedToken() {
  return adminToken;
}

export function forgetToken() {
  adminToken = null;
}

/** GET path -> {ok, status, body}; never throws. With a remembered token,
 *  sent as a Bearer token: a node with admin.require_token_for_reads
 *  answers reads only with it (401 without). */
export function getJson(path) {
  return getWith(path, adminToken);
}

/** Tries `token` on a read (GET /api/v1/status); never throws. A token the
 *  node accepted is remembered, one it refused is forgotten. */
export async function tryToken(token) {
  const reply = await getWith("/api/v1/status", token);
  if (reply.ok) adminToken = token;
  else if (reply.status === 401 || reply.status === 403) adminToken = null;
  return reply;
}

function getWith(path, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  return request(path, { headers }, REQUEST_TIMEOUT_MS, { timedOut: "timed out", lost: "unreachable" });
}

/** POST /api/v1/overrides with `token` as a Bearer token; never throws. A
 *  token the node accepted is remembered, one it refused is forgotten. */
export async function postOverride(body, token) {
  const reply = await request("/api/v1/overrides", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: "Bearer " + token },
    body: JSON.stringify(body),
  }, POST_TIMEOUT_MS, { timedOut: "timed out: the outcome is unknown", lost: "the node did not answer" });
  if (reply.ok) adminToken = token;
  else if (reply.status === 401 || reply.status === 403) adminToken = null;
  return reply;
}

/** What went wrong, for the operator: the API's own error when it gave one. */
export function errorText(reply) {
  if (reply.body && typeof reply.body.error === "string") return reply.status + ": " + reply.body.error;
  if (reply.status) return "HTTP " + reply.status;
  return reply.error || "no answer";
}

// `failure` words the two ways no answer arrives: a POST that timed out
// may still have been applied, so it says so.
async function request(path, init, timeoutMs, failure) {
  try {
    const response = await fetch(path, { ...init, cache: "no-store", signal: AbortSignal.timeout(timeoutMs) });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;  // not JSON (a proxy's page, an empty body): the status still tells
    }
    return { ok: response.ok, status: response.status, body };
  } catch (error) {
    return { ok: false, status: 0, body: null, error: error && error.name === "TimeoutError" ? failure.timedOut : failure.lost };
  }
}
