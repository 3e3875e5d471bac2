// A filterable, paginated list page: a filter form, a result table and previous/next buttons.
// Catalog, stock, ledger and the reorder report are all this, with different columns.

import { request, results, ApiError } from "../api.js";
import { h, table, message } from "../dom.js";

/**
 * @param {object} spec
 *   title, path, caption, filters: [node...] (named inputs inside the form),
 *   headers: [..], row: (obj) => [cells], numeric: [column indexes], params: () => extra params
 */
export function listPage(spec) {
  const status = h("div", { class: "list-status", "aria-live": "polite" });
  const output = h("div", { class: "list-output" });
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": `Filter ${spec.title.toLowerCase()}` },
    spec.filters,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show")),
  );
  let current = null;

  async function load(url) {
    status.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      const data = url
        ? await request(url)
        : await request(spec.path, { params: { ...formParams(form), ...(spec.params?.() || {}) } });
      const page = results(data);
      current = page;
      status.replaceChildren(
        h("p", { class: "muted", id: `${spec.id}-count` }, `${page.count} result${page.count === 1 ? "" : "s"}`),
      );
      const rows = table(spec.caption, spec.headers, page.items.map(spec.row), spec.numeric || []);
      // One page only: no pager to distract.
      if (page.next || page.previous) output.replaceChildren(rows, pager());
      else output.replaceChildren(rows);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      status.replaceChildren(message("error", err.message));
      output.replaceChildren();
    }
  }

  function pager() {
    const go = (link) => () => {
      const u = new URL(link, window.location.origin);
      load(u.pathname + u.search);
    };
    return h(
      "div",
      { class: "pager" },
      h("button", { type: "button", disabled: !current?.previous, onclick: current?.previous ? go(current.previous) : null }, "← Previous page"),
      h("button", { type: "button", disabled: !current?.next, onclick: current?.next ? go(current.next) : null }, "Next page →"),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(null);
  });
  load(null);
  return h("section", { id: spec.id, "aria-labelledby": `${spec.id}-title` },
    h("h1", { id: `${spec.id}-title` }, spec.title),
    spec.intro ? h("p", {}, spec.intro) : null,
    form, status, output);
}

function formParams(form) {
  const params = {};
  for (const [k, v] of new FormData(form).entries()) {
    const value = String(v).trim();
    if (value) params[k] = value;
  }
  return params;
}
