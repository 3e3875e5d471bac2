// Who the person is, as the service sees their certificate, and what their roles allow.
// The service enforces every rule; this only disables buttons early and says why.

import { request, ApiError } from "./api.js";

export const EXPIRY_WARNING_DAYS = 30;

// Which role each operation needs (docs/CONTRACTS.md: clerk = receipt, stow; issuer = issue;
// manager = catalog, adjustments); superusers may do everything.
const OPERATION_ROLES = {
  receipt: "clerk",
  stow: "clerk",
  issue: "issuer",
  adjustment: "manager",
};

const SUPERUSER_ROLES = ["admin", "superuser"];

/**
 * Ask the service who we are. Resolves to {ok: true, me} or {ok: false, status, message, dn}
 * (no certificate, an unknown certificate, or the service being down).
 */
export async function loadIdentity() {
  try {
    const me = await request("whoami/");
    return { ok: true, me };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const body = err.body && typeof err.body === "object" ? err.body : {};
    return {
      ok: false,
      status: err.status,
      message: err.message,
      code: body.code || null,
      dn: body.subject_dn || null,
      issuerDn: body.issuer_dn || null,
      advice: body.how_to_get_access || null,
      grantCommand: body.grant_command || null,
    };
  }
}

export function isSuperuser(me) {
  return Boolean(me?.is_superuser) || (me?.roles || []).some((r) => SUPERUSER_ROLES.includes(r));
}

/** {allowed, reason} for an operation such as "receipt". */
export function permission(me, operation) {
  const role = OPERATION_ROLES[operation];
  if (isSuperuser(me) || (me?.roles || []).includes(role)) return { allowed: true, reason: "" };
  const have = (me?.roles || []).length ? me.roles.join(", ") : "no role";
  return {
    allowed: false,
    reason: `You need the ${role} role for this (you have: ${have}). Your site's administrator can grant it.`,
  };
}

export function expiryWarning(me) {
  const days = Number(me?.days_left);
  if (!Number.isFinite(days) || days >= EXPIRY_WARNING_DAYS) return null;
  if (days < 0) return "Your certificate has expired. Ask your administrator for a new one.";
  return `Your certificate expires in ${days} day${days === 1 ? "" : "s"}. Ask your administrator for a new one before then.`;
}

/** The warning for a login whose CA's revocation list is past its update, within the grace. */
export function crlWarning(me) {
  if (me?.crl_state !== "grace") return null;
  const since = me.crl_next_update ? ` since ${formatDay(me.crl_next_update)}` : "";
  return `The revocation list of your card's authority (${me.anchor}) is out of date${since}. ` +
    "You can still sign in for a limited time; your site's administrator must import a fresh one.";
}

/** How the site knows the person: the anchor and the rule it names people by. */
export function identityText(me) {
  if (!me?.anchor) return "";
  if (me.identity_rule === "upn") return `${me.anchor}: by the UPN ${me.identity_value}`;
  if (me.identity_rule === "email") return `${me.anchor}: by the email ${me.identity_value}`;
  return me.anchor === "local" ? "this site's own authority: by certificate name" : `${me.anchor}: by certificate name`;
}

function formatDay(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}
