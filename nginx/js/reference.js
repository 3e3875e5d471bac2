// Reference data the pages share (units, locations), fetched once per page load, and the
// labels used to show API objects. Field names follow the supply API's serializers.

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

export function forgetCache() {
  cache.clear();
}

export const units = () => listAll("units/");
export const locations = () => listAll("locations/");

/** The UIC of a unit field that may be nested ({uic}), a UIC string, or an id. */
export function uicOf(unit) {
  if (unit && typeof unit === "object") return unit.uic ?? "";
  return unit ?? "";
}

export function unitLabel(unit) {
  return unit.name ? `${unit.uic} — ${unit.name}` : unit.uic;
}

export function locationLabel(loc) {
  if (!loc) return "";
  if (typeof loc !== "object") return String(loc);
  const uic = loc.unit_uic ?? uicOf(loc.unit);
  const kind = loc.kind === "RECEIVING" ? " (receiving)" : "";
  return `${uic ? uic + "/" : ""}${loc.code}${kind}`;
}

export function itemNsn(item) {
  if (item && typeof item === "object") return item.nsn ?? "";
  return item ?? "";
}

export function itemName(item) {
  if (item && typeof item === "object") return item.common_name ?? "";
  return "";
}

export function unitOfIssue(item) {
  if (!item || typeof item !== "object") return "";
  const ui = item.unit_of_issue;
  return ui && typeof ui === "object" ? ui.code : (ui ?? "");
}
