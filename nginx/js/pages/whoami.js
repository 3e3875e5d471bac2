// "Who am I": the certificate the service saw, its expiry and the person's roles.

import { h } from "../dom.js";
import { isSuperuser, permission } from "../identity.js";

const OPERATIONS = [
  ["receipt", "Receive stock into a receiving area"],
  ["stow", "Move stock between locations"],
  ["issue", "Issue stock to a customer unit"],
  ["adjustment", "Set stock to an inventory count"],
];

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
