// Reference data the pages share (units, locations), fetched once per page load.

import { request, results } from "./api.js";

const MAX_PAGES = 20; // a bounded walk: a ship has tens of units and hundreds of bins, not more
const cache = new Map();

/** Every row of a list endpoint, following `next` links (bounded). */
export async function listAll(path, params = {}) {
  const key = `${path}?${new URLSearchParams(params)}`;
  if (cache.has(key)) return cache.get(key);
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
  cache.set(key, promise);
  promise.catch(() => cache.delete(key));
  return promise;
}

export const units = () => listAll("units/");
export const locations = () => listAll("locations/");

export function unitLabel(unit) {
  return unit.name ? `${unit.uic} — ${unit.name}` : unit.uic;
}
