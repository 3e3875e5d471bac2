"""Trust anchors beyond the site's own chain: another PKI whose certificates log in here, such as
a national PKI whose smart cards (DoD CAC / PIV) people already carry.

An anchor is a root and its intermediates (one bundle), a CRL for each of those CAs, and the rules
that turn a valid certificate of that PKI into an identity:

- ``identity``: ``subject`` (issuer DN + subject DN, as the site's own certificates), ``upn``
  (the UPN otherName of the SAN, for DoD cards ``EDIPI@mil``) or ``email`` (the rfc822Name SAN);
- ``require_policies``: certificate policy OIDs a certificate must assert (all of them);
- ``crl_grace_days``: how long past a CRL's nextUpdate its CA's certificates still log in, for
  a site without a link; everyone is told meanwhile;
- ``default_role``: a valid certificate that maps to no one asks for an account with this role
  (an administrator approves it; never an automatic grant).

Layout in the PKI home: ``trust/anchors.json`` (the list, written atomically), and per anchor
``trust/<name>/cas.pem`` and ``trust/<name>/crls/<KEYID>.pem``. The site's own fleet chain is the
built-in anchor ``local`` (``ca/trust.pem``, ``ca/crls.pem``; identity = subject). nginx reads
``ca/edge-trust.pem`` and ``ca/edge-crls.pem``: every anchor's CAs and CRLs together.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from pki import anchor_store, audit, bundles
from pki.certinfo import fingerprint_sha256
from pki.crl import crl_number, load_crl
from pki.errors import CertificateError, InputError, NotFoundError
from pki.files import atomic_write, make_dir
from pki.home import PkiHome, as_home

LOCAL = "local"
RULES = ("subject", "upn", "email")
# The supply service's roles (supply.identity.roles.ROLES); a test keeps the two equal.
ROLES = ("viewer", "clerk", "issuer", "manager")
_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
MAX_GRACE_DAYS = 90


def anchor_cas(home: PkiHome, name: str) -> list[x509.Certificate]:
    """The CAs of an anchor (``local``: the site's own chain and peers)."""
    return (
        bundles.trusted(home)
        if name == LOCAL
        else anchor_store.load_cas(anchor_store.cas_path(home, name))
    )


def anchor_crls(home: PkiHome, name: str) -> list[x509.CertificateRevocationList]:
    if name == LOCAL:
        parts = bundles.crl_parts(home)
    else:
        directory = anchor_store.crls_dir(home, name)
        parts = sorted(directory.glob("*.pem")) if directory.is_dir() else []
    return [x509.load_pem_x509_crl(p.read_bytes()) for p in parts if p.is_file()]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_bundle(data: bytes) -> list[x509.Certificate]:
    """The CAs of a bundle: at least one self-signed root, and every other certificate a CA
    issued by another certificate of the bundle."""
    try:
        cas = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CertificateError(f"ca: Not a PEM bundle of certificates ({exc}).") from None
    for cert in cas:
        if not _is_ca(cert):
            raise CertificateError(
                f"ca: {cert.subject.rfc4514_string()} is not a CA (basicConstraints CA:FALSE); "
                "give the PKI's root and intermediates only."
            )
    roots = [c for c in cas if c.issuer == c.subject and _issued_by(c, c)]
    if not roots:
        raise CertificateError("ca: The bundle holds no self-signed root; add the PKI's root.")
    for cert in cas:
        if cert in roots:
            continue
        if not any(_issued_by(cert, other) for other in cas if other is not cert):
            raise CertificateError(
                f"ca: {cert.subject.rfc4514_string()} is not issued by a certificate of the "
                "bundle; add its issuer."
            )
    return cas


def longest_chain(cas: Sequence[x509.Certificate]) -> int:
    """The number of CAs on the longest path from a CA of ``cas`` up to its root."""
    by_subject: dict[x509.Name, x509.Certificate] = {c.subject: c for c in cas}

    def depth(cert: x509.Certificate, seen: frozenset[x509.Name]) -> int:
        parent = by_subject.get(cert.issuer)
        if cert.issuer == cert.subject or parent is None or cert.issuer in seen:
            return 1
        return 1 + depth(parent, seen | {cert.subject})

    return max((depth(c, frozenset()) for c in cas), default=0)


def _signer(
    crl: x509.CertificateRevocationList, cas: Sequence[x509.Certificate], name: str
) -> x509.Certificate:
    for ca in cas:
        if ca.subject == crl.issuer and crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
            return ca
    raise CertificateError(
        f"crl: Not signed by a CA of anchor {name!r} (issuer {crl.issuer.rfc4514_string()})."
    )


@dataclass(frozen=True)
class KeptCRL:
    issuer: str
    number: int | None
    next_update: dt.datetime | None
    revoked: int
    path: Path


def _keep_crl(
    home: PkiHome, name: str, crl: x509.CertificateRevocationList, ca: x509.Certificate
) -> KeptCRL:
    """Keep ``crl`` unless the one kept already is newer (a replayed old CRL would forget
    revocations)."""
    target = anchor_store.crls_dir(home, name) / f"{bundles.key_id(ca)}.pem"
    if target.is_file():
        kept = x509.load_pem_x509_crl(target.read_bytes())
        new_number, old_number = crl_number(crl), crl_number(kept)
        older = (
            new_number < old_number
            if new_number is not None and old_number is not None
            else crl.last_update_utc < kept.last_update_utc
        )
        if older:
            raise InputError(
                f"crl: Older than the CRL kept for {ca.subject.rfc4514_string()} "
                f"(issued {kept.last_update_utc:%Y-%m-%d %H:%M} UTC); nothing changed."
            )
    make_dir(target.parent)
    atomic_write(target, crl.public_bytes(Encoding.PEM))
    return KeptCRL(
        crl.issuer.rfc4514_string(), crl_number(crl), crl.next_update_utc, len(crl), target
    )


def _check_options(
    name: str, identity: str, policies: Sequence[str], grace: int, role: str | None
) -> None:
    if not _NAME.fullmatch(name):
        raise InputError(
            "name: An anchor's name is 1 to 32 lower-case letters, digits or dashes, starting "
            "with a letter (e.g. dod)."
        )
    if name == LOCAL:
        raise InputError("name: 'local' is the site's own fleet chain; choose another name.")
    if identity not in RULES:
        raise InputError(f"identity: Choose one of {', '.join(RULES)}, not {identity!r}.")
    for oid in policies:
        if not _OID.fullmatch(oid):
            raise InputError(f"require-policy: {oid!r} is not a dotted OID such as 2.16.840.1.")
    if not 0 <= grace <= MAX_GRACE_DAYS:
        raise InputError(f"crl-grace: From 0 to {MAX_GRACE_DAYS} days, not {grace}.")
    if role is not None and role not in ROLES:
        raise InputError(f"default-role: Choose one of {', '.join(ROLES)}, not {role!r}.")


def add(
    home: PkiHome | Path | str,
    name: str,
    bundle: bytes,
    *,
    crls: Sequence[bytes] = (),
    identity: str,
    require_policies: Sequence[str] = (),
    crl_grace_days: int = 0,
    default_role: str | None = None,
) -> anchor_store.Anchor:
    """Trust another PKI: check its bundle and CRLs, keep them, and rebuild nginx's bundles."""
    h = as_home(home)
    _check_options(name, identity, require_policies, crl_grace_days, default_role)
    cas = check_bundle(bundle)
    parsed = [(crl, _signer(crl, cas, name)) for crl in (load_crl(d, "crl") for d in crls)]
    with h.lock(), h.index() as index, index.write():
        anchors = anchor_store.load(h)
        if any(a.name == name for a in anchors):
            raise InputError(
                f"name: Anchor {name!r} exists already; `pki trust remove {name}` first to "
                "change it."
            )
        # Who trusts each CA already, by fingerprint and by name (the service finds a
        # certificate's anchor by its issuer's name).
        owners = [(LOCAL, bundles.trusted(h))] + [(a.name, anchor_cas(h, a.name)) for a in anchors]
        by_fingerprint = {fingerprint_sha256(c): o for o, certs in owners for c in certs}
        by_name = {c.subject: o for o, certs in owners for c in certs}
        for ca in cas:
            owner = by_fingerprint.get(fingerprint_sha256(ca))
            if owner is not None:
                raise InputError(
                    f"ca: {ca.subject.rfc4514_string()} is trusted already by anchor {owner!r}; "
                    "a CA belongs to one anchor, so its certificates have one identity rule."
                )
            if ca.subject in by_name:
                raise InputError(
                    f"ca: Anchor {by_name[ca.subject]!r} trusts another CA named "
                    f"{ca.subject.rfc4514_string()}; a certificate's anchor is found by its "
                    "issuer's name, so two CAs may not share one."
                )
        anchor = anchor_store.Anchor(
            name=name,
            identity=identity,
            require_policies=tuple(require_policies),
            crl_grace_days=crl_grace_days,
            default_role=default_role,
            added=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        )
        make_dir(anchor_store.cas_path(h, name).parent)
        atomic_write(
            anchor_store.cas_path(h, name), b"".join(c.public_bytes(Encoding.PEM) for c in cas)
        )
        for crl, ca in parsed:
            _keep_crl(h, name, crl, ca)
        anchor_store.save(h, [*anchors, anchor])
        bundles.write(h)
        audit.record(
            h,
            index,
            audit.Event(
                "trust-add",
                (),
                tuple(c.subject.rfc4514_string() for c in cas),
                {"anchor": name, "identity": identity, "crls": len(parsed)},
            ),
        )
    return anchor


def remove(home: PkiHome | Path | str, name: str) -> anchor_store.Anchor:
    """Stop trusting an anchor: its CAs and CRLs leave the bundles at once."""
    h = as_home(home)
    if name == LOCAL:
        raise InputError("name: 'local' is the site's own fleet chain and cannot be removed.")
    with h.lock(), h.index() as index, index.write():
        anchors = anchor_store.load(h)
        anchor = next((a for a in anchors if a.name == name), None)
        if anchor is None:
            raise NotFoundError(f"trust: No anchor {name!r}; `pki trust list` shows the anchors.")
        anchor_store.save(h, [a for a in anchors if a.name != name])
        bundles.write(h)
        shutil.rmtree(anchor_store.trust_dir(h) / name, ignore_errors=True)
        audit.record(h, index, audit.Event("trust-remove", (), (), {"anchor": name}))
    return anchor


def import_crl(home: PkiHome | Path | str, name: str, data: bytes) -> KeptCRL:
    """Keep a fresh CRL of one of an anchor's CAs, verified against that CA first."""
    h = as_home(home)
    anchor_store.get(h, name)  # says which anchors exist
    crl = load_crl(data, "crl")
    ca = _signer(crl, anchor_store.load_cas(anchor_store.cas_path(h, name)), name)
    with h.lock(), h.index() as index, index.write():
        kept = _keep_crl(h, name, crl, ca)
        bundles.write(h)
        audit.record(
            h,
            index,
            audit.Event(
                "trust-import-crl",
                (),
                (),
                {"anchor": name, "issuer": kept.issuer, "number": kept.number},
            ),
        )
    return kept


@dataclass(frozen=True)
class CAState:
    """One CA of an anchor and the freshness of its CRL."""

    subject: str
    not_after: dt.datetime
    crl_next_update: dt.datetime | None
    state: str  # fresh | grace | stale | missing

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "not_after": self.not_after.isoformat(),
            "crl_next_update": self.crl_next_update.isoformat() if self.crl_next_update else None,
            "crl_state": self.state,
        }


def crl_state(next_update: dt.datetime | None, grace_days: int, now: dt.datetime) -> str:
    """fresh: before nextUpdate; grace: past it, within the anchor's grace; stale: past both."""
    if next_update is None or now <= next_update:
        return "fresh"
    if now <= next_update + dt.timedelta(days=grace_days):
        return "grace"
    return "stale"


def ca_states(
    home: PkiHome, name: str, grace_days: int, now: dt.datetime | None = None
) -> list[CAState]:
    now = now or dt.datetime.now(dt.UTC)
    crls = anchor_crls(home, name)
    out = []
    for ca in anchor_cas(home, name):
        mine = [c for c in crls if c.issuer == ca.subject]
        if not mine:
            out.append(
                CAState(ca.subject.rfc4514_string(), ca.not_valid_after_utc, None, "missing")
            )
            continue
        newest = max(mine, key=lambda c: c.last_update_utc)
        state = crl_state(newest.next_update_utc, grace_days, now)
        out.append(
            CAState(
                ca.subject.rfc4514_string(), ca.not_valid_after_utc, newest.next_update_utc, state
            )
        )
    return out
