// Meridian dashboard: the drain/restore dialog. It asks for the admin token
// (unless one already worked), an author, a reason and how long, sends the
// override, and says what happened. The token is handled as the rules at the
// top of dashboard.js say: api.js keeps one that worked, the dialog's field
// is emptied whenever the dialog closes.

import { errorText, forgetToken, postOverride, rememberedToken } from "./api.js";
import { byId } from "./dom.js";

const NOTICE_MS = 8000;

/** What the open dialog will do: {kind, name, action}, or null. */
let operation = null;
/** The last author typed, offered again in this tab. */
let author = "";
/** Called after an override was sent, so the page shows it at once. */
let onSent = () => {};
let noticeTimer = null;

/** Listens to the dialog's form and buttons. Once, at start. */
export function setUpOperationDialog(afterSent) {
  onSent = afterSent;
  byId("op-form").addEventListener("submit", confirmOperation);
  byId("op-cancel").addEventListener("click", () => byId("op-dialog").close());
  byId("op-forget").addEventListener("click", () => {
    forgetToken();
    byId("op-token").value = "";
    byId("op-forget").hidden = true;
    byId("op-token").focus();
  });
  // Whatever closes the dialog (Cancel, Esc, success), the typed token
  // leaves the DOM with it; only a token that worked stays, in memory.
  byId("op-dialog").addEventListener("close", () => {
    byId("op-token").value = "";
    operation = null;
  });
}

/** kind: "endpoint" | "site"; action: "drain" | "restore". */
export function openOperation(kind, name, action) {
  operation = { kind, name, action };
  const dialog = byId("op-dialog");
  const verb = action === "drain" ? "Drain" : "Restore";
  const token = rememberedToken();
  byId("op-title").textContent = verb + " " + kind;
  byId("op-what").textContent = action === "drain"
    ? kind + " " + name + ": out of every node's answers until restored"
    : kind + " " + name + ": remove the operator's override; health decides again";
  byId("op-confirm").textContent = verb;
  byId("op-for-label").hidden = action !== "drain";
  byId("op-for").value = "";
  byId("op-token").value = token || "";
  byId("op-forget").hidden = !token;
  byId("op-author").value = author;
  byId("op-reason").value = "";
  showError("");
  byId("op-confirm").disabled = false;
  dialog.showModal();
  (token ? byId("op-reason") : byId("op-token")).focus();
}

function showError(text) {
  const error = byId("op-error");
  error.textContent = text;
  error.hidden = !text;
}

async function confirmOperation(event) {
  event.preventDefault();
  if (!operation) return;
  const token = byId("op-token").value.trim();
  if (!token) {
    showError("The admin token is needed (admin.token_file of the node's config).");
    return;
  }
  author = byId("op-author").value.trim();
  const body = { [operation.kind]: operation.name, state: operation.action === "drain" ? "drain" : "none",
    author: author || "dashboard" };
  const reason = byId("op-reason").value.trim();
  if (reason) body.reason = reason;
  if (operation.action === "drain" && byId("op-for").value) body.for = byId("op-for").value;
  const confirm = byId("op-confirm");
  confirm.disabled = true;
  showError("");
  const reply = await postOverride(body, token);
  confirm.disabled = false;
  if (reply.ok) {
    const done = operation;
    byId("op-dialog").close();
    notice(done.kind + " " + done.name + ": " + (done.action === "drain" ? "drain" : "override removed") + " (sent)");
    onSent();
    return;
  }
  if (reply.status === 401 || reply.status === 403) {
    // postOverride forgot the token; the field and the button go with it.
    byId("op-token").value = "";
    byId("op-forget").hidden = true;
  }
  showError(errorText(reply));
}

function notice(text) {
  const note = byId("notice");
  note.textContent = text;
  note.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { note.hidden = true; }, NOTICE_MS);
}
