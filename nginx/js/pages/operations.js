// Receipt, stow, issue and adjustment forms. Each submission carries an Idempotency-Key that is kept (in this
// tab's sessionStorage, with the request body) until the service has answered it: a double click,
// a retry after a network failure, even a reload and the same values typed again, apply once.
// Different values are a different submission with a new key.

import { request, newKey, ApiError } from "../api.js";
import { h, field, option, message } from "../dom.js";
import { permission } from "../identity.js";
import { locations, units, unitLabel } from "../reference.js";
import { dashedNsn } from "../nsn.js";

// 13 digits, or dashed as printed on labels and shipping papers: 6505-01-332-4567.
const NSN_PATTERN = /^(?:[0-9]{13}|[0-9]{4}-[0-9]{2}-[0-9]{3}-[0-9]{4})$/;

const OPERATIONS = {
  receipt: {
    title: "Receipt",
    intro: "Record stock that arrived, into a location of your unit (usually its receiving area).",
    path: "receipts/",
    verb: "Record receipt",
    fields: ["unit", "nsn", "location", "quantity", "document_number"],
  },
  stow: {
    title: "Stow",
    intro: "Move stock between two locations of a unit (for example from receiving into a bin).",
    path: "stows/",
    verb: "Record stow",
    fields: ["unit", "nsn", "from_location", "to_location", "quantity", "document_number"],
  },
  issue: {
    title: "Issue",
    intro: "Issue stock out of a location of your unit to a customer unit.",
    path: "issues/",
    verb: "Record issue",
    fields: ["unit", "nsn", "location", "customer_unit", "quantity", "document_number"],
  },
  adjustment: {
    title: "Adjustment",
    intro: "Set the on-hand quantity of a location to what an inventory count found. The ledger records the difference.",
    path: "adjustments/",
    verb: "Record adjustment",
    fields: ["unit", "nsn", "location", "counted", "document_number"],
  },
};

const LOCATION_FIELDS = ["location", "from_location", "to_location"];

// The unit of the last recorded operation: a clerk works for one unit, so every form starts there.
const LAST_UNIT = "supply.lastUnit";

function rememberedUnit() {
  try {
    return localStorage.getItem(LAST_UNIT) || "";
  } catch {
    return ""; // storage switched off: every form starts empty, as before
  }
}

function unitSelect(name, placeholder, remembered = "") {
  const select = h("select", { name, required: true }, option("", placeholder));
  units()
    .then((rows) => {
      select.append(...rows.map((u) => option(u.uic, unitLabel(u))));
      // Only when the person has not chosen yet, and only a unit that still exists.
      if (remembered && !select.value && rows.some((u) => u.uic === remembered)) {
        select.value = remembered;
        select.dispatchEvent(new Event("change"));
      }
    })
    .catch((err) => select.append(option("", `(could not load units: ${err.message})`)));
  return select;
}

/** Location codes of the chosen unit; receiving areas first, as receipts land there. */
async function fillLocations(select, uic) {
  select.replaceChildren(option("", uic ? "Choose a location…" : "Choose a unit first"));
  if (!uic) return;
  const rows = (await locations()).filter((l) => l.unit === uic);
  rows.sort((a, b) => (a.kind === b.kind ? a.code.localeCompare(b.code) : a.kind === "RECEIVING" ? -1 : 1));
  select.append(...rows.map((l) => option(l.code, l.kind === "RECEIVING" ? `${l.code} (receiving area)` : l.code)));
}

const CONTROLS = {
  unit: () =>
    field("Your unit", unitSelect("unit", "Choose your unit…", rememberedUnit()), "The unit whose locations hold the stock."),
  nsn: () =>
    field(
      "Item NSN",
      h("input", {
        name: "nsn", required: true, autocomplete: "off",
        pattern: "[0-9]{13}|[0-9]{4}-[0-9]{2}-[0-9]{3}-[0-9]{4}", maxlength: "16", placeholder: "6505-01-332-4567",
      }),
      "The National Stock Number: 13 digits, with or without the dashes printed on labels.",
    ),
  location: () => field("Location", h("select", { name: "location", required: true })),
  from_location: () => field("From location", h("select", { name: "from_location", required: true })),
  to_location: () => field("To location", h("select", { name: "to_location", required: true })),
  customer_unit: () => field("Customer unit", unitSelect("customer_unit", "Choose the receiving unit…")),
  quantity: () =>
    field("Quantity", h("input", { name: "quantity", type: "number", required: true, min: "1", step: "1", inputmode: "numeric" }),
      "A whole number, at least 1, in the item's unit of issue."),
  counted: () =>
    field("Counted quantity", h("input", { name: "counted", type: "number", required: true, min: "0", step: "1", inputmode: "numeric" }),
      "What the count found at this location, in the item's unit of issue (0 if none)."),
  document_number: () =>
    field("Document number", h("input", { name: "document_number", required: true, autocomplete: "off", maxlength: "40" })),
};

/** Checks the browser can make before asking the service; the service checks everything again. */
function validate(values) {
  const errors = {};
  if (!values.unit) errors.unit = "Choose your unit.";
  if (!NSN_PATTERN.test(values.nsn ?? "")) errors.nsn = "NSN must be 13 digits, plain or dashed as printed (6505-01-332-4567).";
  if ("quantity" in values && !(/^[0-9]+$/.test(values.quantity) && Number(values.quantity) >= 1)) {
    errors.quantity = "Quantity must be a whole number of at least 1.";
  }
  if ("counted" in values && !/^[0-9]+$/.test(values.counted)) {
    errors.counted = "Counted quantity must be a whole number of at least 0.";
  }
  for (const name of [...LOCATION_FIELDS, "customer_unit"]) {
    if (name in values && !values[name]) errors[name] = "Choose one.";
  }
  if (!(values.document_number ?? "").trim()) errors.document_number = "A document number is required.";
  if (values.from_location && values.from_location === values.to_location) {
    errors.to_location = "From and to must be different locations.";
  }
  return errors;
}

function payload(values) {
  const body = { ...values, document_number: values.document_number.trim() };
  for (const name of ["quantity", "counted"]) if (name in body) body[name] = Number(body[name]);
  return body;
}

/** The key of this submission: the pending one when the same body is sent again, else a new one. */
function pendingKey(op, body) {
  const slot = `supply.pending.${op}`;
  const text = JSON.stringify(body);
  let pending = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(slot) || "null");
  } catch {
    pending = null;
  }
  if (pending?.body === text && typeof pending.key === "string") return pending.key;
  const key = newKey();
  sessionStorage.setItem(slot, JSON.stringify({ key, body: text }));
  return key;
}

/** The service answered: the next submission, even with the same values, is a new one. */
function settle(op) {
  sessionStorage.removeItem(`supply.pending.${op}`);
}

function showFieldErrors(form, errors) {
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  for (const control of form.querySelectorAll("[name]")) control.removeAttribute("aria-invalid");
  for (const [name, text] of Object.entries(errors)) {
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!control) continue;
    control.setAttribute("aria-invalid", "true");
    const slot = form.querySelector(`#${CSS.escape(control.id)}-error`);
    if (slot) slot.textContent = text;
  }
}

function describeSuccess(op, body, data) {
  const id = data && typeof data === "object" && data.id !== undefined ? ` (ledger entry ${data.id})` : "";
  if (op === "adjustment") {
    const delta = Number(data?.quantity);
    const change = Number.isFinite(delta) ? `, a change of ${delta > 0 ? "+" : ""}${delta}` : "";
    return `Adjustment recorded: ${dashedNsn(body.nsn)} at ${body.location} counted ${body.counted}${change}, document ${body.document_number}${id}.`;
  }
  return `${OPERATIONS[op].title} recorded: ${body.quantity} × ${dashedNsn(body.nsn)}, document ${body.document_number}${id}.`;
}

export function operationPage(op, session) {
  const spec = OPERATIONS[op];
  const { allowed, reason } = permission(session.me, op);
  const result = h("div", { class: "result", "aria-live": "polite" });
  // The service's answer takes the focus, so a keyboard or screen-reader user lands on it.
  const answer = (kind, text) => {
    const msg = message(kind, text);
    msg.tabIndex = -1;
    result.replaceChildren(msg);
    msg.focus();
  };
  const submit = h("button", { type: "submit", class: "primary", "aria-describedby": allowed ? null : `${op}-denied` }, spec.verb);
  const fieldset = h("fieldset", { disabled: !allowed },
    h("legend", { class: "visually-hidden" }, spec.title),
    spec.fields.map((name) => CONTROLS[name]()),
    h("div", { class: "actions" }, submit));
  const form = h("form", { id: `${op}-form`, novalidate: true, "aria-labelledby": `${op}-title` }, fieldset);

  const unit = form.querySelector('[name="unit"]');
  unit.addEventListener("change", () => {
    for (const name of LOCATION_FIELDS) {
      const select = form.querySelector(`[name="${name}"]`);
      if (select) fillLocations(select, unit.value).catch((err) => result.replaceChildren(message("error", err.message)));
    }
  });
  for (const name of LOCATION_FIELDS) {
    const select = form.querySelector(`[name="${name}"]`);
    if (select) fillLocations(select, "");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!allowed || form.dataset.busy) return;
    const values = Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v)]));
    const errors = validate(values);
    showFieldErrors(form, errors);
    if (Object.keys(errors).length) {
      result.replaceChildren(message("error", "Please correct the marked fields."));
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
    const body = payload(values);
    const key = pendingKey(op, body);
    form.dataset.busy = "1";
    submit.disabled = true;
    result.replaceChildren(message("info", "Sending…"));
    try {
      const meta = {};
      const data = await request(spec.path, { method: "POST", body, idempotencyKey: key, meta });
      settle(op);
      try {
        localStorage.setItem(LAST_UNIT, values.unit);
      } catch {
        // storage switched off: nothing to remember
      }
      const replayed = meta.replayed ? " It had already arrived: recorded once." : "";
      answer("ok", describeSuccess(op, body, data) + replayed);
      for (const name of ["quantity", "counted", "document_number"]) {
        const control = form.querySelector(`[name="${name}"]`);
        if (control) control.value = "";
      }
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const unanswered = err.status === 0 || err.status >= 500;
      // A refusal (4xx) applied nothing; an unanswered request may have: keep its key for the retry.
      if (!unanswered) settle(op);
      showFieldErrors(form, err.fieldErrors);
      const retry = unanswered ? " Press the button again to retry: it will not be applied twice." : "";
      answer("error", `${err.message}${retry}`);
    } finally {
      delete form.dataset.busy;
      submit.disabled = false;
    }
  });

  return h("section", { id: op, "aria-labelledby": `${op}-title` },
    h("h1", { id: `${op}-title` }, spec.title),
    h("p", {}, spec.intro),
    allowed ? null : h("p", { class: "msg msg-denied", id: `${op}-denied`, role: "note" }, reason),
    form,
    result);
}

export const OPERATION_NAMES = Object.keys(OPERATIONS);
