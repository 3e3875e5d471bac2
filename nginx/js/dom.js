// Small DOM helpers. Every piece of server data goes in through textContent, never innerHTML,
// so a DN or an item description can never inject markup.

/**
 * Build an element: h("p", {class: "x", onclick: fn}, "text", childNode, [more, children]).
 * Attributes whose value is false/null/undefined are left out; true gives an empty attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the content of main with the given nodes and move focus there (for screen readers). */
export function render(main, ...nodes) {
  main.replaceChildren();
  append(main, nodes);
}

let uid = 0;
/** A unique id for label/for pairs. */
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: label, control, optional hint, and a slot for its error message. */
export function field(label, control, hint) {
  const id = control.id || nextId("f");
  control.id = id;
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  const described = [hint ? hintId : null, errId].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", described);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    h("p", { class: "field-error", id: errId, role: "status" }),
  );
}

/**
 * A table with a caption, header row and body rows (arrays of cells: strings or nodes). Each cell
 * carries its column's name (data-label), so a narrow screen can stack a row's cells under their
 * names; the explicit roles keep it a table for screen readers when CSS lays it out otherwise.
 */
export function table(caption, headers, rows, numericColumns = []) {
  // A table wider than the screen says so: columns cut off at the edge with no cue go unseen.
  const hint = h("p", { class: "scroll-hint", hidden: true }, "Scroll sideways for more columns →");
  const wrap = h(
    "div",
    // Focusable, so a keyboard can scroll a table wider than the screen.
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    hint,
    h(
      "table",
      { role: "table" },
      h("caption", {}, caption),
      h(
        "thead",
        { role: "rowgroup" },
        h(
          "tr",
          { role: "row" },
          headers.map((head, i) =>
            h("th", { scope: "col", role: "columnheader", class: numericColumns.includes(i) ? "num" : null }, head),
          ),
        ),
      ),
      h(
        "tbody",
        { role: "rowgroup" },
        rows.length
          ? rows.map((cells) =>
              h(
                "tr",
                { role: "row" },
                cells.map((cell, i) =>
                  h("td", { role: "cell", class: numericColumns.includes(i) ? "num" : null, dataset: { label: headers[i] } }, cell ?? ""),
                ),
              ),
            )
          : h("tr", { role: "row" }, h("td", { role: "cell", colspan: headers.length, class: "muted empty" }, "Nothing to show.")),
      ),
    ),
  );
  new ResizeObserver(() => {
    hint.hidden = wrap.scrollWidth <= wrap.clientWidth + 1;
  }).observe(wrap);
  return wrap;
}

/** A status message region: kind is "ok", "error" or "info". */
export function message(kind, text) {
  return h("p", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function option(value, label, selected = false) {
  return h("option", { value, selected }, label);
}

export function formatDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").slice(0, 16) + "Z";
}
