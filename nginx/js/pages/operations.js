// Receipt, stow, issue and adjustment forms. Each submission carries an Idempotency-Key that is kept (in this
// tab's sessionStorage, with the request body) until the service has answered it: a double click,
// a retry after a network failure, even a reload and the same values typed again, apply once.
// Different values are a different submission with a new key.

import { request, newKey, ApiError } from "../api.js";
import { h, field, option, message } from "../dom.js";
import { permission } from "../identity.js";
import { item, locations, onHandByLocation, units, unitLabel } from "../reference.js";
import { canonicalNsn, dashedNsn, dashNsnsIn } from "../nsn.js";

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

// The location stock leaves from: stow and issue offer only the locations that hold the item.
const TAKES_FROM = { stow: "from_location", issue: "location" };
// The location whose on-hand the item line shows.
const SOURCE = { receipt: "location", stow: "from_location", issue: "location", adjustment: "location" };
// The service names what it refuses (`what: Sentence.`); "stock" is about the quantity asked for.
const FIELD_OF_SUBJECT = { stock: "quantity" };

// The unit of the last recorded operation: a clerk works for one unit, so every form starts there.
const LAST_UNIT = "supply.lastUnit";

function rememberedUnit() {
  try {
    return localStorage.getItem(LAST_UNIT) || "";
  } catch {
    return ""; // storage switched off: every form starts empty, as before
  }
}

function unitSelect(name, placeholder, wanted = "") {
  const select = h("select", { name, required: true }, option("", placeholder));
  units()
    .then((rows) => {
      select.append(...rows.map((u) => option(u.uic, unitLabel(u))));
      // Only when the person has not chosen yet, and only a unit that still exists.
      if (wanted && !select.value && rows.some((u) => u.uic === wanted)) {
        select.value = wanted;
        select.dispatchEvent(new Event("change"));
      }
    })
    .catch((err) => select.append(option("", `(could not load units: ${err.message})`)));
  return select;
}

function locationLabel(loc, onHand) {
  const name = loc.kind === "RECEIVING" ? `${loc.code} (receiving area)` : loc.code;
  return onHand === undefined ? name : `${name} — ${onHand} on hand`;
}

/**
 * Fill a location select with the chosen unit's codes, receiving areas first (receipts land
 * there), each with its on-hand of the item when the item is known. With `onlyHeld`, only the
 * locations that hold the item are offered. The choice survives a refill when still offered;
 * `select.dataset.wanted` (a link's preset) is chosen once it appears.
 */
async function fillLocations(select, uic, stock, onlyHeld) {
  const generation = String(Number(select.dataset.generation || 0) + 1);
  select.dataset.generation = generation;
  const rows = uic ? (await locations()).filter((l) => l.unit === uic) : [];
  if (select.dataset.generation !== generation) return; // a newer fill is on its way
  const previous = select.value || select.dataset.wanted || "";
  rows.sort((a, b) => (a.kind === b.kind ? a.code.localeCompare(b.code) : a.kind === "RECEIVING" ? -1 : 1));
  const offered = onlyHeld && stock ? rows.filter((l) => stock.has(l.code)) : rows;
  const placeholder = !uic
    ? "Choose a unit first"
    : offered.length
      ? "Choose a location…"
      : onlyHeld && stock
        ? `No location of ${uic} holds this item`
        : `${uic} has no locations`;
  select.replaceChildren(
    option("", placeholder),
    ...offered.map((l) => option(l.code, locationLabel(l, stock ? stock.get(l.code) ?? 0 : undefined))),
  );
  if (offered.some((l) => l.code === previous)) {
    select.value = previous;
    delete select.dataset.wanted;
  }
}

const locationSelect = (name, preset) =>
  h("select", { name, required: true, dataset: preset[name] ? { wanted: preset[name] } : {} });

const CONTROLS = {
  unit: (preset) =>
    field("Your unit", unitSelect("unit", "Choose your unit…", preset.unit || rememberedUnit()), "The unit whose locations hold the stock."),
  nsn: (preset) =>
    field(
      "Item NSN",
      h("input", {
        name: "nsn", required: true, autocomplete: "off",
        pattern: "[0-9]{13}|[0-9]{4}-[0-9]{2}-[0-9]{3}-[0-9]{4}", maxlength: "16", placeholder: "6505-01-332-4567",
        value: canonicalNsn(preset.nsn) ? dashedNsn(canonicalNsn(preset.nsn)) : null,
      }),
      "The National Stock Number: 13 digits, with or without the dashes printed on labels.",
    ),
  location: (preset) => field("Location", locationSelect("location", preset)),
  from_location: (preset) => field("From location", locationSelect("from_location", preset)),
  to_location: (preset) => field("To location", locationSelect("to_location", preset)),
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
  if (!canonicalNsn(values.nsn)) errors.nsn = "NSN must be 13 digits, plain or dashed as printed (6505-01-332-4567).";
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
  const body = { ...values, nsn: canonicalNsn(values.nsn), document_number: values.document_number.trim() };
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

const place = (loc) => (loc ? `${loc.unit}/${loc.code}` : "");

/** What was recorded, in the words of the ledger row the service wrote. */
function describeSuccess(op, body, data) {
  const entry = data && typeof data === "object" ? data : {};
  const ui = entry.unit_of_issue || "";
  const what = entry.common_name ? `${entry.common_name} (${dashedNsn(body.nsn)})` : dashedNsn(body.nsn);
  const doc = `document ${body.document_number}${entry.id !== undefined ? `, ledger entry ${entry.id}` : ""}`;
  const amount = `${entry.quantity ?? body.quantity} ${ui}`.trim();
  switch (op) {
    case "receipt":
      return `${amount} of ${what} received into ${place(entry.to_location) || body.location}, ${doc}.`;
    case "stow":
      return `${amount} of ${what} stowed from ${place(entry.from_location) || body.from_location} to ${place(entry.to_location) || body.to_location}, ${doc}.`;
    case "issue":
      return `${amount} of ${what} issued from ${place(entry.from_location) || body.location} to ${entry.customer_unit || body.customer_unit}, ${doc}.`;
    default: {
      const delta = Number(entry.quantity);
      const change = Number.isFinite(delta) ? `, a change of ${delta > 0 ? "+" : ""}${delta}` : "";
      const at = place(entry.to_location || entry.from_location) || body.location;
      return `${what} at ${at} counted ${body.counted} ${ui}`.trim() + `${change}, ${doc}.`;
    }
  }
}

/**
 * A refusal split into what belongs to a field of this form (the DRF field errors, and a service
 * message `what: Sentence.` whose `what` names a field) and what is about the whole request.
 */
function refusalOf(err, form) {
  const fields = {};
  const general = [];
  const has = (name) => Boolean(form.querySelector(`[name="${CSS.escape(name)}"]`));
  for (const [name, text] of Object.entries(err.fieldErrors || {})) {
    if (has(name)) fields[name] = dashNsnsIn(text);
    else general.push(`${name}: ${text}`);
  }
  const detail = typeof err.body?.detail === "string" ? err.body.detail : "";
  const named = /^([a-z_]+): (.+)$/s.exec(detail);
  const target = named ? FIELD_OF_SUBJECT[named[1]] || named[1] : null;
  if (target && has(target)) fields[target] = dashNsnsIn(named[2]);
  else if (detail) general.push(dashNsnsIn(detail));
  return { fields, general: general.join(" ") };
}

/** The preset a link gives in the hash: #/stow?unit=W1A2B3&nsn=…&from_location=RECV. */
function presetFromHash() {
  const query = window.location.hash.split("?")[1] || "";
  return Object.fromEntries(new URLSearchParams(query));
}

export function operationPage(op, session) {
  const spec = OPERATIONS[op];
  const preset = presetFromHash();
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
    spec.fields.map((name) => CONTROLS[name](preset)),
    h("div", { class: "actions" }, submit));
  const form = h("form", { id: `${op}-form`, novalidate: true, "aria-labelledby": `${op}-title` }, fieldset);
  const control = (name) => form.querySelector(`[name="${name}"]`);

  // The item line under the NSN: what the NSN is and how many the chosen location holds, so two
  // swapped digits show the wrong item before anything is booked.
  const nsnInput = control("nsn");
  const itemLine = h("p", { class: "item-line", id: `${op}-item`, "aria-live": "polite" });
  nsnInput.closest(".field").append(itemLine);
  nsnInput.setAttribute("aria-describedby", `${nsnInput.getAttribute("aria-describedby")} ${itemLine.id}`);
  const state = { nsn: null, item: undefined, stock: null, asked: 0 };

  function showItemLine() {
    itemLine.classList.remove("item-line-missing");
    if (!state.nsn) return itemLine.replaceChildren();
    if (state.item === undefined) return itemLine.replaceChildren("Looking up the item…");
    if (state.item === null) {
      itemLine.classList.add("item-line-missing");
      return itemLine.replaceChildren(`No item with NSN ${dashedNsn(state.nsn)} in the catalog. Check the digits.`);
    }
    const it = state.item;
    const parts = [h("strong", { class: "item-name" }, it.common_name), ` — unit of issue ${it.unit_of_issue}.`];
    const uic = control("unit").value;
    const at = control(SOURCE[op])?.value;
    if (uic && state.stock) {
      if (at) parts.push(` ${state.stock.get(at) ?? 0} ${it.unit_of_issue} on hand at ${uic}/${at}.`);
      else if (state.stock.size) {
        parts.push(` On hand in ${uic}: ${[...state.stock].map(([code, n]) => `${code} ${n}`).join(", ")}.`);
      } else parts.push(` None on hand in ${uic}.`);
    }
    itemLine.replaceChildren(...parts);
  }

  /** Ask again for the item's stock in the unit, then refill the location lists. */
  async function refresh() {
    const asked = ++state.asked;
    const uic = control("unit").value;
    let stock = null;
    if (uic && state.nsn && state.item) {
      try {
        stock = await onHandByLocation(state.nsn, uic);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        stock = null; // the lists then offer every location, as without an item
      }
    }
    if (asked !== state.asked) return; // the unit or NSN changed meanwhile
    state.stock = stock;
    await Promise.all(
      LOCATION_FIELDS.filter(control).map((name) => fillLocations(control(name), uic, stock, TAKES_FROM[op] === name)),
    );
    showItemLine();
  }

  async function lookUp() {
    const nsn = canonicalNsn(nsnInput.value);
    if (nsn === state.nsn) return;
    Object.assign(state, { nsn, item: undefined, stock: null });
    showItemLine();
    if (!nsn) return refresh();
    let found;
    try {
      found = await item(nsn);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      found = undefined;
      itemLine.replaceChildren(`Could not look the item up: ${err.message}`);
    }
    if (state.nsn !== nsn) return; // typed on meanwhile
    state.item = found;
    await refresh();
  }

  const unit = control("unit");
  unit.addEventListener("change", () => refresh().catch((err) => result.replaceChildren(message("error", err.message))));
  nsnInput.addEventListener("input", () => lookUp().catch((err) => result.replaceChildren(message("error", err.message))));
  control(SOURCE[op])?.addEventListener("change", showItemLine);
  for (const name of LOCATION_FIELDS) if (control(name)) fillLocations(control(name), "", null, false);
  if (nsnInput.value) lookUp();

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
      // What usually comes next: stock received is stowed into a bin, with unit, item and
      // source filled in.
      if (op === "receipt" && permission(session.me, "stow").allowed) {
        const next = new URLSearchParams({ unit: body.unit, nsn: body.nsn, from_location: body.location });
        result.append(h("p", { class: "next-step" }, h("a", { href: `#/stow?${next}` }, "Stow it into a bin →")));
      }
      for (const name of ["quantity", "counted", "document_number"]) {
        if (control(name)) control(name).value = "";
      }
      refresh().catch(() => {}); // the on-hand shown has changed
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const unanswered = err.status === 0 || err.status >= 500;
      // A refusal (4xx) applied nothing; an unanswered request may have: keep its key for the retry.
      if (!unanswered) settle(op);
      const refusal = refusalOf(err, form);
      showFieldErrors(form, refusal.fields);
      const retry = unanswered ? " Press the button again to retry: it will not be applied twice." : "";
      if (Object.keys(refusal.fields).length) {
        // Each reason sits under its field; the field takes the focus and reads it out.
        result.replaceChildren(message("error", ["Nothing was recorded: please correct the marked fields.", refusal.general].filter(Boolean).join(" ")));
        form.querySelector("[aria-invalid=true]")?.focus();
      } else {
        answer("error", `${refusal.general || err.message}${retry}`);
      }
      if (err.status === 409) refresh().catch(() => {}); // someone else moved the stock
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
