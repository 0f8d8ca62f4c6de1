// Meridian dashboard: building the page's nodes. Text only: data becomes
// textContent or an attribute, never markup (the rules are at the top of
// dashboard.js).

const SVG_NS = "http://www.w3.org/2000/svg";

export const byId = (id) => document.getElementById(id);

/** An element; `props` sets className, text, title, dataset and other
 *  attributes; children are nodes or strings (as text). */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  for (const child of children) appendChild(node, child);
  return node;
}

/** The same for an SVG element (the map and the rate chart). */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setProps(node, attrs);
  for (const child of children) appendChild(node, child);
  return node;
}

// undefined, null and false set nothing, so callers can write `cond && value`.
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

/** A coloured label; `kind` becomes a class, so only letters and dashes. */
export function badge(text, kind) {
  return el("span", { className: "badge " + String(kind || "").replace(/[^a-z-]/gi, ""), text });
}

/** A second, quieter line under a cell's main text. */
export function sub(text) {
  return el("span", { className: "sub", text });
}

/** What a panel shows instead of its data. */
export function empty(text) {
  return el("p", { className: "empty", text });
}
