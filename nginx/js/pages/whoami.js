// "Who am I": the certificate the service saw, its expiry and the person's roles.

import { h } from "../dom.js";
import { identityText, isSuperuser, permission } from "../identity.js";

const OPERATIONS = [
  ["receipt", "Receive stock into a receiving area"],
  ["stow", "Move stock between locations"],
  ["issue", "Issue stock to a customer unit"],
  ["adjustment", "Set stock to an inventory count"],
];

function crlText(me) {
  const until = me.crl_next_update ? new Date(me.crl_next_update).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "";
  if (me.crl_state === "grace") return `out of date since ${until}: signing in is allowed for a limited time`;
  return until ? `up to date until ${until}` : "up to date";
}

export function whoamiPage(session) {
  const me = session.me;
  const granted = me.roles?.length ? me.roles.join(", ") : "";
  const roles = isSuperuser(me)
    ? `${granted ? granted + "; " : ""}administrator (every operation)`
    : granted || "none";
  return [
    h("h1", {}, "Who am I"),
    h(
      "dl",
      { class: "facts", id: "whoami" },
      h("dt", {}, "Certificate subject"),
      h("dd", { class: "dn", "data-field": "subject_dn" }, me.subject_dn),
      h("dt", {}, "Issued by"),
      h("dd", { class: "dn", "data-field": "issuer_dn" }, me.issuer_dn),
      h("dt", {}, "Serial"),
      h("dd", { class: "mono", "data-field": "serial" }, me.serial),
      h("dt", {}, "Days until it expires"),
      h("dd", { "data-field": "days_left" }, String(me.days_left)),
      h("dt", {}, "User name"),
      h("dd", { "data-field": "username" }, me.username),
      h("dt", {}, "Roles"),
      h("dd", { "data-field": "roles" }, roles),
      h("dt", {}, "Trusted through"),
      h("dd", { "data-field": "anchor" }, identityText(me)),
      h("dt", {}, "Revocation list"),
      h("dd", { "data-field": "crl" }, crlText(me)),
    ),
    h("h2", {}, "What you can do"),
    h(
      "ul",
      { class: "capabilities" },
      OPERATIONS.map(([op, text]) => {
        const { allowed, reason } = permission(me, op);
        return h(
          "li",
          { class: allowed ? "can" : "cannot" },
          h("span", { class: "visually-hidden" }, allowed ? "Allowed: " : "Not allowed: "),
          h("span", { "aria-hidden": "true" }, allowed ? "✓ " : "✗ "),
          text,
          allowed ? null : h("span", { class: "reason" }, ` — ${reason}`),
        );
      }),
    ),
  ];
}
