// Meridian dashboard: the explain box, which asks /api/v1/explain how the
// node would answer a name for a client and shows the trace as text (the
// rules are at the top of dashboard.js).

import { errorText, getJson } from "./api.js";
import { byId } from "./dom.js";

/** The name field is filled in once, from the first service seen. */
let namePrefilled = false;

/** Listens to the explain form. Once, at start. */
export function setUpExplain() {
  byId("explain-form").addEventListener("submit", explain);
}

/** Offers `serviceName` (without the final dot) as the name to explain,
 *  unless the operator got there first. Only the first call counts. */
export function prefillExplainName(serviceName) {
  if (namePrefilled) return;
  const name = byId("explain-name");
  if (!name.value && document.activeElement !== name) name.value = serviceName.replace(/\.$/, "");
  namePrefilled = true;
}

async function explain(event) {
  event.preventDefault();
  const out = byId("explain-out");
  const query = new URLSearchParams({ name: byId("explain-name").value.trim(), client: byId("explain-client").value.trim() });
  const ecs = byId("explain-ecs").value.trim();
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
