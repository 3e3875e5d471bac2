// The read-only pages: catalog search, stock by unit and location, the ledger, the reorder report.

import { h, field, option, formatDate } from "../dom.js";
import { permission } from "../identity.js";
import { units, unitLabel } from "../reference.js";
import { listPage } from "./list.js";
import { dashedNsn } from "../nsn.js";

/** A <select> filled once its loader answers; the first option means "any". */
export function asyncSelect(name, loader, label, value, anyText) {
  const select = h("select", { name }, option("", anyText));
  loader()
    .then((rows) => select.append(...rows.map((row) => option(value(row), label(row)))))
    .catch(() => select.append(option("", "(could not load the list)")));
  return select;
}

const unitSelect = (name = "unit") =>
  asyncSelect(name, units, unitLabel, (u) => u.uic, "Any unit");

function text(name, attrs = {}) {
  return h("input", { type: "text", name, autocomplete: "off", ...attrs });
}

const nsnCell = (nsn) => h("span", { class: "mono" }, dashedNsn(nsn));

/**
 * Links that start an operation with this row's item (and location) filled in: only the
 * operations the person's roles allow, each named for a screen reader.
 */
function startLinks(session, starts) {
  const links = starts
    .filter(({ op }) => permission(session?.me, op).allowed)
    .map(({ op, text, label, preset }) =>
      h("a", { href: `#/${op}?${new URLSearchParams(preset)}`, class: "row-action", "aria-label": label }, text));
  return links.length ? h("span", { class: "row-actions" }, links) : "";
}

function locationText(loc) {
  return loc ? `${loc.unit}/${loc.code}` : "";
}

export function catalogPage(session) {
  return listPage({
    id: "catalog",
    title: "Catalog",
    path: "items/",
    caption: "Catalog items",
    filters: [
      field("Search", text("search", { type: "search", placeholder: "NSN, name or description" })),
      field("FSC", text("fsc", { inputmode: "numeric", pattern: "[0-9]{4}", maxlength: "4" }), "4 digits, e.g. 8465"),
    ],
    headers: ["NSN", "Name", "Description", "UI", "Price", "AAC", "Start"],
    numeric: [4],
    row: (item) => [
      nsnCell(item.nsn), item.common_name, item.description, item.unit_of_issue, item.price, item.aac,
      startLinks(session, [
        { op: "receipt", text: "Receive", label: `Receive ${item.common_name} (${dashedNsn(item.nsn)})`, preset: { nsn: item.nsn } },
      ]),
    ],
  });
}

export function stockPage(session) {
  return listPage({
    id: "stock",
    title: "Stock",
    intro: "On-hand quantities per item and location.",
    path: "stock/",
    caption: "Stock on hand",
    filters: [
      field("Unit", unitSelect()),
      field("Location code", text("location", { placeholder: "e.g. RECV" })),
      field("Item", text("search", { type: "search", placeholder: "NSN or name" })),
    ],
    headers: ["Unit", "Location", "NSN", "Item", "On hand", "Start"],
    numeric: [4],
    row: (s) => {
      const where = `${s.common_name} (${dashedNsn(s.nsn)}) at ${s.unit}/${s.location}`;
      const preset = { unit: s.unit, nsn: s.nsn };
      return [s.unit, s.location, nsnCell(s.nsn), s.common_name, String(s.on_hand),
        startLinks(session, [
          { op: "stow", text: "Stow", label: `Stow ${where}`, preset: { ...preset, from_location: s.location } },
          { op: "issue", text: "Issue", label: `Issue ${where}`, preset: { ...preset, location: s.location } },
          { op: "adjustment", text: "Adjust", label: `Adjust ${where}`, preset: { ...preset, location: s.location } },
        ].filter(({ op }) => s.on_hand > 0 || op === "adjustment"))];
    },
  });
}

const KINDS = ["RECEIPT", "STOW", "ISSUE", "ADJUSTMENT"];

/** A date input's day as the ISO instant the ledger filter takes (UTC midnight). */
function dayStart(value, plusDays = 0) {
  if (!value) return undefined;
  const d = new Date(`${value}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + plusDays);
  return d.toISOString();
}

/** The day over the time: two short lines keep the column narrow on a tablet. */
function whenCell(iso) {
  const text = formatDate(iso);
  const [day, time] = text.split(" ");
  return time ? [h("span", { class: "nowrap" }, day), " ", h("span", { class: "nowrap" }, time)] : text;
}

/** An adjustment's signed change and the count it set; other kinds move a positive quantity. */
function ledgerQuantity(t) {
  if (t.kind !== "ADJUSTMENT" || t.counted === null || t.counted === undefined) return String(t.quantity);
  const change = t.quantity > 0 ? `+${t.quantity}` : String(t.quantity);
  return [h("span", { class: "nowrap" }, change), " ", h("span", { class: "nowrap" }, `(counted ${t.counted})`)];
}

/** The CN of an RFC 4514 DN string such as "CN=Dana Clerk,O=Navy" (first CN; escapes kept). */
function commonName(dn) {
  const match = /(?:^|,)\s*CN=((?:\\.|[^,\\])+)/i.exec(dn || "");
  return match ? match[1].trim() : "";
}

export function ledgerPage() {
  const kind = h("select", { name: "kind" }, option("", "Any kind"), KINDS.map((k) => option(k, k)));
  const after = h("input", { type: "date", name: "after_day" });
  const before = h("input", { type: "date", name: "before_day" });
  return listPage({
    id: "ledger",
    title: "Ledger",
    intro: "Every stock change, newest first. Corrections are new rows; nothing is ever edited.",
    path: "transactions/",
    caption: "Ledger transactions",
    filters: [
      field("Kind", kind),
      field("Search", text("search", { type: "search", placeholder: "NSN, name, document number" })),
      field("Unit", unitSelect()),
      field("Customer unit", unitSelect("customer_unit")),
      field("From day", after),
      field("To day (inclusive)", before),
    ],
    // The day inputs are turned into the API's after/before instants.
    params: () => ({ after_day: "", before_day: "", after: dayStart(after.value), before: dayStart(before.value, 1), ordering: "-id" }),
    headers: ["#", "When (UTC)", "Kind", "Document", "NSN", "Item", "Qty", "From", "To", "Customer", "By"],
    numeric: [0, 6],
    row: (t) => [
      String(t.id),
      whenCell(t.created_at),
      t.kind,
      h("span", { class: "nowrap" }, t.document_number),
      nsnCell(t.nsn),
      t.common_name ?? "",
      ledgerQuantity(t),
      h("span", { class: "nowrap" }, locationText(t.from_location)),
      h("span", { class: "nowrap" }, locationText(t.to_location)),
      t.customer_unit ?? "",
      // The person's name from their certificate; the full DN and user name on hover.
      h("span", { title: `${t.subject_dn || ""} (${t.user})` }, commonName(t.subject_dn) || t.user),
    ],
  });
}

export function reorderPage() {
  return listPage({
    id: "reorder",
    title: "Below reorder point",
    intro: "Items a unit holds fewer of (all its locations together) than its reorder point.",
    path: "stock/below-reorder-point/",
    caption: "Items to reorder",
    filters: [field("Unit", unitSelect("unit__uic"))],
    headers: ["Unit", "NSN", "Item", "On hand", "Reorder point", "Allowance", "To order"],
    numeric: [3, 4, 5, 6],
    row: (r) => [r.unit, nsnCell(r.nsn), r.common_name, String(r.on_hand), String(r.reorder_point), String(r.allowance), String(r.shortfall)],
  });
}
