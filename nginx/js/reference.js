// Reference data the pages share (units, locations, items), fetched once per page load, and the
// stock of one item, fetched every time.

import { request, results, ApiError } from "./api.js";

const MAX_PAGES = 20; // a bounded walk: a ship has tens of units and hundreds of bins, not more
const cache = new Map();

/** Every row of a list endpoint, following `next` links (bounded); cached unless `fresh`. */
export async function listAll(path, params = {}, { fresh = false } = {}) {
  const key = `${path}?${new URLSearchParams(params)}`;
  if (!fresh && cache.has(key)) return cache.get(key);
  const promise = (async () => {
    const rows = [];
    let page = results(await request(path, { params: { page_size: 100, ...params } }));
    rows.push(...page.items);
    for (let i = 1; page.next && i < MAX_PAGES; i += 1) {
      const next = new URL(page.next, window.location.origin);
      page = results(await request(next.pathname + next.search));
      rows.push(...page.items);
    }
    return rows;
  })();
  if (fresh) return promise;
  cache.set(key, promise);
  promise.catch(() => cache.delete(key));
  return promise;
}

export const units = () => listAll("units/");
export const locations = () => listAll("locations/");

export function unitLabel(unit) {
  return unit.name ? `${unit.uic} — ${unit.name}` : unit.uic;
}

const items = new Map();

/** The catalog item of a 13-digit NSN, or null when the catalog has none. An item found is
 * kept for the page load; a miss is asked again, as a manager may add the item meanwhile. */
export function item(nsn) {
  if (!items.has(nsn)) {
    const promise = request(`items/${nsn}/`).catch((err) => {
      items.delete(nsn);
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    });
    items.set(nsn, promise);
  }
  return items.get(nsn);
}

/** On-hand of an item per location code of one unit, only where something is on hand. Never
 * cached: stock is what changes. */
export async function onHandByLocation(nsn, uic) {
  const rows = await listAll("stock/", { nsn, unit: uic, in_stock: "true" }, { fresh: true });
  return new Map(rows.map((row) => [row.location, row.on_hand]));
}
