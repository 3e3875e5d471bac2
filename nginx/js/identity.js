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
