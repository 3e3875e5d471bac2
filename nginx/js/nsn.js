// NSNs as people read them: dashed as printed on labels and shipping papers (6505-01-332-4567).
// The API stores and returns the 13 digits; it accepts either form.

/** The dashed form of a 13-digit NSN (anything else is returned as it is). */
export const dashedNsn = (nsn) =>
  /^[0-9]{13}$/.test(nsn ?? "")
    ? `${nsn.slice(0, 4)}-${nsn.slice(4, 6)}-${nsn.slice(6, 9)}-${nsn.slice(9)}`
    : nsn;
