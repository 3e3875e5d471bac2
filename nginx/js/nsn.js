// NSNs as people read them: dashed as printed on labels and shipping papers (6505-01-332-4567).
// The API stores and returns the 13 digits; it accepts either form.

const PLAIN = /^[0-9]{13}$/;
const DASHED = /^([0-9]{4})-([0-9]{2})-([0-9]{3})-([0-9]{4})$/;

/** The dashed form of a 13-digit NSN (anything else is returned as it is). */
export const dashedNsn = (nsn) =>
  PLAIN.test(nsn ?? "") ? `${nsn.slice(0, 4)}-${nsn.slice(4, 6)}-${nsn.slice(6, 9)}-${nsn.slice(9)}` : nsn;

/** The 13 digits of an NSN typed plain or dashed (spaces around ignored); null for anything else. */
export function canonicalNsn(text) {
  const value = String(text ?? "").trim();
  if (PLAIN.test(value)) return value;
  const dashed = DASHED.exec(value);
  return dashed ? dashed.slice(1).join("") : null;
}

/** Every 13-digit run in a service message, dashed as a person reads it. */
export const dashNsnsIn = (text) => String(text).replace(/\b[0-9]{13}\b/g, dashedNsn);
