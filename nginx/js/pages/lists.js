// The read-only pages: catalog search, stock by unit and location, the ledger, the reorder report.

import { h, field, option, formatDate } from "../dom.js";
import {
  units, locations, unitLabel, locationLabel, itemNsn, itemName, unitOfIssue, uicOf,
} from "../reference.js";
import { listPage } from "./list.js";

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
const locationSelect = (name = "location") =>
  asyncSelect(name, locations, locationLabel, (l) => l.id, "Any location");

function text(name, attrs = {}) {
  return h("input", { type: "text", name, autocomplete: "off", ...attrs });
}

export function catalogPage() {
  return listPage({
    id: "catalog",
    title: "Catalog",
    path: "items/",
    caption: "Catalog items",
    filters: [
      field("Search", text("search", { type: "search", placeholder: "NSN, name or description" })),
      field("FSC", text("fsc", { inputmode: "numeric", pattern: "[0-9]{4}", maxlength: "4" }), "4 digits, e.g. 8465"),
    ],
    headers: ["NSN", "Name", "Description", "UI", "Price", "AAC"],
    numeric: [4],
    row: (item) => [
      h("span", { class: "mono" }, item.nsn),
      item.common_name,
      item.description,
      unitOfIssue(item),
      item.price,
      item.aac,
    ],
  });
}

export function stockPage() {
  return listPage({
    id: "stock",
    title: "Stock",
    intro: "On-hand quantities per item and location.",
    path: "stock/",
    caption: "Stock on hand",
    filters: [
      field("Unit", unitSelect()),
      field("Location", locationSelect()),
      field("Item", text("search", { type: "search", placeholder: "NSN or name" })),
    ],
    headers: ["Unit", "Location", "NSN", "Item", "UI", "On hand"],
    numeric: [5],
    row: (s) => [
      s.unit_uic ?? uicOf(s.location?.unit),
      locationLabel(s.location),
      h("span", { class: "mono" }, s.nsn ?? itemNsn(s.item)),
      s.common_name ?? itemName(s.item),
      s.unit_of_issue ?? unitOfIssue(s.item),
      String(s.quantity ?? s.on_hand),
    ],
  });
}

const KINDS = ["RECEIPT", "STOW", "ISSUE", "ADJUSTMENT"];

export function ledgerPage() {
  const kind = h("select", { name: "kind" }, option("", "Any kind"), KINDS.map((k) => option(k, k)));
  return listPage({
    id: "ledger",
    title: "Ledger",
    intro: "Every stock change, newest first. Corrections are new rows; nothing is ever edited.",
    path: "transactions/",
    caption: "Ledger transactions",
    filters: [
      field("Kind", kind),
      field("Item", text("search", { type: "search", placeholder: "NSN, document number" })),
      field("Unit", unitSelect()),
      field("Document number", text("document_number")),
      field("From date", h("input", { type: "date", name: "created_after" })),
      field("To date", h("input", { type: "date", name: "created_before" })),
    ],
    headers: ["When", "Kind", "Document", "NSN", "Item", "Qty", "From", "To", "Customer", "By"],
    numeric: [5],
    row: (t) => [
      formatDate(t.created_at ?? t.timestamp),
      t.kind,
      t.document_number,
      h("span", { class: "mono" }, t.nsn ?? itemNsn(t.item)),
      t.common_name ?? itemName(t.item),
      String(t.quantity),
      locationLabel(t.from_location),
      locationLabel(t.to_location),
      uicOf(t.customer_unit),
      t.username ?? t.user ?? "",
    ],
  });
}

export function reorderPage() {
  return listPage({
    id: "reorder",
    title: "Below reorder point",
    intro: "Items whose on-hand quantity in a unit is at or below the unit's reorder point.",
    path: "stock/below-reorder/",
    caption: "Items to reorder",
    filters: [field("Unit", unitSelect())],
    headers: ["Unit", "NSN", "Item", "On hand", "Reorder point", "Allowance"],
    numeric: [3, 4, 5],
    row: (r) => [
      r.unit_uic ?? uicOf(r.unit),
      h("span", { class: "mono" }, r.nsn ?? itemNsn(r.item)),
      r.common_name ?? itemName(r.item),
      String(r.on_hand ?? r.quantity),
      String(r.reorder_point),
      String(r.allowance),
    ],
  });
}
