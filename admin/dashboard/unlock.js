// Meridian dashboard: the admin token for reading, on a node whose reads
// need it (admin.require_token_for_reads). When the status request answers
// 401 or 403, the header shows a token field; a token the node accepts is
// kept by api.js and sent with every request from then on. The token is
// handled as the rules at the top of dashboard.js say: the field is emptied
// as soon as the token was tried, whatever the answer.

import { errorText, rememberedToken, tryToken } from "./api.js";
import { byId } from "./dom.js";

/** Called once a token worked, so the page fills in at once. */
let onUnlocked = () => {};

/** Listens to the token form. Once, at start. */
export function setUpUnlock(afterUnlock) {
  onUnlocked = afterUnlock;
  byId("unlock").addEventListener("submit", unlock);
}

/** After each poll: the form shows while the node refuses the page's reads
 *  for want of the token (or for a wrong one), and hides once they pass. */
export function renderUnlock(status) {
  const form = byId("unlock");
  const refused = status.status === 401 || status.status === 403;
  if (refused && form.hidden) {
    form.hidden = false;
    showError(rememberedToken() ? "The node refused the token." : "");
    byId("unlock-token").focus();
  } else if (!refused && status.ok) {
    form.hidden = true;
    showError("");
  }
}

async function unlock(event) {
  event.preventDefault();
  const field = byId("unlock-token");
  const token = field.value.trim();
  field.value = "";
  if (!token) return showError("The admin token is needed (admin.token_file of the node's config).");
  const reply = await tryToken(token);
  if (reply.ok) {
    byId("unlock").hidden = true;
    showError("");
    onUnlocked();
  } else {
    showError(reply.status === 401 || reply.status === 403 ? "The node refused this token." : errorText(reply));
    field.focus();
  }
}

function showError(text) {
  const error = byId("unlock-error");
  error.textContent = text;
  error.hidden = !text;
}
