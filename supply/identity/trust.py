"""Is a client certificate acceptable? The service's own check, behind nginx's.

nginx verifies the chain at the handshake, but the service re-checks the certificate bytes it is
given (defence in depth; DESIGN.md "Identity"):

- a leaf: basicConstraints CA:FALSE or absent (RFC 5280 section 4.2.1.9) — nginx accepts CA:TRUE;
- extendedKeyUsage contains id-kp-clientAuth (RFC 5280 section 4.2.1.12) — nginx accepts no EKU;
- a path to a trusted root through the CAs of the trust file (a fleet root and its issuing CAs):
  signatures, validity, basicConstraints and pathLen, keyUsage and the name constraints of every
  CA (RFC 5280 section 6.1), by ``cryptography``'s X.509 verification API. Its web PKI profile
  wants a SAN in every leaf; a person's certificate may have none, so the leaf policy allows that;
- a leaf's CN that reads as a host name fits its CA's DNS constraints when it has no DNS SAN,
  as OpenSSL (and so nginx) requires, which ``cryptography`` does not check;
- now within notBefore..notAfter of the leaf and of each CA above it (RFC 5280 4.1.2.5);
- neither the leaf nor any CA above it is on its issuer's CRL (RFC 5280 section 6.3), and each
  of those CRLs is present and current. nginx reads CRLs only at reload and resumed TLS sessions
  skip them, so this check is what makes a revocation reach every request.

Path building is cached by the certificate bytes for the current trust file; validity and the
CRLs are checked on every request (clock comparisons and set lookups).

One ``TrustStore`` is one trust anchor (:class:`AnchorRules`): the site's own fleet chain
(``local``) or another PKI added with ``pki trust add`` (supply.identity.anchors picks the anchor
of a certificate). An anchor's rules add, for its certificates:

- the certificate policies it requires (each asserted by the leaf);
- the identity value its rule names: ``subject`` (the DNs, as the site's own certificates),
  ``upn`` (the one UPN otherName of the SAN; a DoD ``EDIPI@mil`` UPN must match the EDIPI that
  ends the CN ``LAST.FIRST.MIDDLE.EDIPI``) or ``email`` (the one rfc822Name of the SAN);
- a CRL grace: past a CRL's nextUpdate, within the grace, its certificates still log in and the
  login says so (``crl_state="grace"``; a warning in the log once an hour); past it they are
  refused with the command that imports a fresh CRL.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from pki import constraints
from pki.certinfo import CertInfo, describe, load_pem, upns
from pki.errors import CertificateError, InputError
from supply.identity.errors import LoginFailure
from supply.identity.serials import SerialSet
from supply.identity.watch import WatchedFile

_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.S)
_CACHE_SIZE = 4096
_WARN_EVERY = 3600.0  # seconds between two log warnings about one anchor's CRL in its grace
log = logging.getLogger(__name__)
_warned: dict[str, float] = {}


@dataclass(frozen=True, slots=True)
class AnchorRules:
    """How one trust anchor's certificates become identities (``pki trust add``)."""

    name: str = "local"
    identity: str = "subject"
    require_policies: tuple[str, ...] = ()
    crl_grace_days: int = 0
    default_role: str | None = None


LOCAL = AnchorRules()


@dataclass(frozen=True, slots=True)
class Verified:
    """An acceptable certificate: its facts, its anchor and the identity the anchor's rule gives."""

    info: CertInfo
    anchor: str
    rule: str
    value: str  # the UPN or email; "" for the subject rule (the DNs are the identity)
    crl_state: str  # "fresh", or "grace": a CRL of its chain is past nextUpdate, within grace
    crl_next_update: dt.datetime | None  # the earliest nextUpdate of its chain's CRLs


# A person's certificate may carry no SAN (no email); everything else stays the web PKI profile.
_LEAF_POLICY = ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
)


@dataclass(frozen=True, slots=True)
class _Revocations:
    """One CA's CRL, reduced to what a request needs."""

    serials: SerialSet
    next_update: dt.datetime | None


@dataclass(frozen=True, slots=True)
class _Trust:
    """The trust file split into roots (self-signed) and the CAs below them."""

    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]

    @property
    def all(self) -> tuple[x509.Certificate, ...]:
        return (*self.roots, *self.intermediates)


@dataclass(frozen=True, slots=True)
class _Path:
    """What a verified chain leaves for the per-request checks."""

    info: CertInfo
    # (issuer, serial, subject DN) of the leaf and of each CA below the root, leaf first.
    # (issuer DN, serial, subject DN) as RFC 4514 strings: cheap dictionary keys per request.
    links: tuple[tuple[str, int, str], ...]
    ca_not_after: dt.datetime | None  # the earliest expiry of the CAs above the leaf
    value: str  # the identity value of the anchor's rule


def _parse_cas(data: bytes) -> _Trust:
    cas = tuple(x509.load_pem_x509_certificates(data))
    if not cas:
        raise ValueError("no certificate in the trusted CA file")
    roots = tuple(c for c in cas if c.issuer == c.subject)
    if not roots:
        raise ValueError("no self-signed root in the trusted CA file")
    return _Trust(roots, tuple(c for c in cas if c.issuer != c.subject))


def _parse_crls(data: bytes) -> tuple[x509.CertificateRevocationList, ...]:
    crls = tuple(x509.load_pem_x509_crl(block) for block in _PEM_CRL.findall(data))
    if not crls:
        raise ValueError("no CRL in the CRL file")
    return crls


def _parse_anchor_crls(data: bytes) -> tuple[x509.CertificateRevocationList, ...]:
    # An anchor may have no CRL yet: its certificates are then refused one by one, by name.
    return tuple(x509.load_pem_x509_crl(block) for block in _PEM_CRL.findall(data))


def rejected(info: CertInfo | None, why: str) -> LoginFailure:
    return LoginFailure("rejected", f"certificate: {why}", info)


def _why(exc: VerificationError) -> str:
    text = str(exc)
    if "name constraint" in text:
        return "Outside the name constraints of its CA."
    return "Not issued by a trusted CA."


class TrustStore:
    """One anchor's CAs and CRLs, from files that are re-read when they change."""

    def __init__(self, ca_file: Path, crl_file: Path, rules: AnchorRules = LOCAL) -> None:
        self.rules = rules
        self._cas = WatchedFile(ca_file, _parse_cas)
        parse = _parse_crls if rules.name == LOCAL.name else _parse_anchor_crls
        # The file is parsed and indexed at once and only the index is kept: a national PKI's
        # CRL object (its DER and parsed entries) would otherwise stay in every worker.
        self._crls = WatchedFile(crl_file, lambda data: _index_crls(parse(data), self._cas_now()))
        self._indexed_cas: object = None
        self._verified: OrderedDict[tuple[str, object], _Path] = OrderedDict()
        self._subjects: tuple[object, frozenset[x509.Name]] = (None, frozenset())
        self._lock = threading.Lock()

    def _cas_now(self) -> tuple[x509.Certificate, ...]:
        return self._cas.get().all

    def subjects(self) -> frozenset[x509.Name]:
        """The subjects of this anchor's CAs (which anchor issued a leaf, by its issuer)."""
        try:
            trust = self._cas.get()
        except (OSError, ValueError):
            return frozenset()
        if self._subjects[0] is not trust:
            self._subjects = (trust, frozenset(c.subject for c in trust.all))
        return self._subjects[1]

    @property
    def ca_version(self) -> object:
        """The version of the CA file last read (a new one means new CAs)."""
        return self._cas.version

    def verify(self, pem: str) -> CertInfo:
        """The facts of the certificate in ``pem`` if acceptable now; else raise LoginFailure."""
        return self.check(pem).info

    def check(self, pem: str) -> Verified:
        """The certificate in ``pem`` and its identity under this anchor; else LoginFailure."""
        try:
            trust = self._cas.get()
        except (OSError, ValueError) as exc:
            raise rejected(None, f"The trusted CA file cannot be read ({exc}).") from exc
        key = (pem, self._cas.version)
        path = self._verified.get(key)
        if path is None:
            path = _build_path(pem, trust, self.rules)
            with self._lock:
                self._verified[key] = path
                while len(self._verified) > _CACHE_SIZE:
                    self._verified.popitem(last=False)
        self._check_time(path)
        state, next_update = self._check_revocation(path)
        return Verified(
            path.info, self.rules.name, self.rules.identity, path.value, state, next_update
        )

    @staticmethod
    def _check_time(path: _Path) -> None:
        now = dt.datetime.now(dt.UTC)
        _check_leaf_time(path.info, now)
        if path.ca_not_after is not None and now > path.ca_not_after:
            raise rejected(path.info, f"Its CA expired on {path.ca_not_after:%Y-%m-%d %H:%M} UTC.")

    def _check_revocation(self, path: _Path) -> tuple[str, dt.datetime | None]:
        info = path.info
        rules = self.rules
        if self._indexed_cas != self._cas.version:
            # New CAs: the CRLs are verified against them again (the file is read once more).
            self._crls.invalidate()
            self._indexed_cas = self._cas.version
        try:
            revocations_of = self._crls.get()
        except (OSError, ValueError) as exc:
            # Fail closed, as nginx does: without a CRL no revocation can be honoured.
            raise rejected(info, f"The CRL cannot be read ({exc}).") from exc
        now = dt.datetime.now(dt.UTC)
        state, earliest = "fresh", None
        for depth, (issuer, serial, subject_dn) in enumerate(path.links):
            revocations = revocations_of.get(issuer)
            if revocations is None:
                if rules.name == LOCAL.name:
                    raise rejected(info, f"No valid CRL from {_whose(depth, subject_dn)}.")
                raise rejected(
                    info,
                    f"No CRL of {issuer} (anchor {rules.name}) is kept here; "
                    f"run `pki trust import-crl {rules.name} FILE` on the site's PKI host.",
                )
            if serial in revocations.serials:
                why = "Revoked." if depth == 0 else f"Its CA {subject_dn} is revoked."
                raise rejected(info, why)
            next_update = revocations.next_update
            if next_update is None:
                continue
            earliest = next_update if earliest is None else min(earliest, next_update)
            if next_update >= now:
                continue
            grace = dt.timedelta(days=rules.crl_grace_days)
            if now > next_update + grace:
                whose = _whose(depth, subject_dn)
                raise rejected(info, _stale_crl(rules, whose, issuer, next_update, grace))
            state = "grace"
            _warn_grace(rules, issuer, next_update + grace)
        return state, earliest


def _whose(depth: int, subject_dn: str) -> str:
    return "its CA" if depth == 0 else f"the CA above {subject_dn}"


def _stale_crl(
    rules: AnchorRules, whose: str, issuer: str, next_update: dt.datetime, grace: dt.timedelta
) -> str:
    if rules.name == LOCAL.name:
        return (
            f"The CRL of {whose} has expired; run `pki crl` on its CA's host "
            "(then `pki import-crl` here if that is another host)."
        )
    grace_text = f", and its {grace.days}-day grace with it" if grace else ""
    return (
        f"The CRL of {issuer} (anchor {rules.name}) expired at "
        f"{next_update:%Y-%m-%d %H:%M} UTC{grace_text}; bring a fresh CRL and run "
        f"`pki trust import-crl {rules.name} FILE` on the site's PKI host."
    )


def _warn_grace(rules: AnchorRules, issuer: str, refused_from: dt.datetime) -> None:
    now = time.monotonic()
    last = _warned.get(rules.name)
    if last is not None and now - last < _WARN_EVERY:
        return
    _warned[rules.name] = now
    log.warning(
        "trust anchor %s: the CRL of %s has expired; its certificates log in within the CRL "
        "grace until %s UTC, then are refused. Run `pki trust import-crl %s FILE`.",
        rules.name,
        issuer,
        f"{refused_from:%Y-%m-%d %H:%M}",
        rules.name,
    )


def _check_leaf_time(info: CertInfo, now: dt.datetime) -> None:
    if now < info.not_before:
        raise rejected(info, f"Not valid before {info.not_before:%Y-%m-%d %H:%M} UTC.")
    if now > info.not_after:
        raise rejected(info, f"Expired on {info.not_after:%Y-%m-%d %H:%M} UTC.")


def _build_path(pem: str, trust: _Trust, rules: AnchorRules = LOCAL) -> _Path:
    try:
        cert = load_pem(pem.encode("ascii"))
    except (CertificateError, UnicodeEncodeError) as exc:
        raise rejected(None, "Not a PEM certificate.") from exc
    info = describe(cert)
    if info.is_ca:
        raise rejected(info, "A CA certificate cannot log in (basicConstraints CA:TRUE).")
    if not info.client_auth:
        raise rejected(info, "Not made for client authentication (no clientAuth EKU).")
    now = dt.datetime.now(dt.UTC)
    # First, so an expired or future leaf is refused with its dates rather than as "not trusted".
    _check_leaf_time(info, now)
    verifier = (
        PolicyBuilder()
        .store(Store(list(trust.roots)))
        .time(now)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_LEAF_POLICY)
        .build_client_verifier()
    )
    try:
        chain = verifier.verify(cert, list(trust.intermediates)).chain
    except VerificationError as exc:
        raise rejected(info, _why(exc)) from exc
    _check_common_name(info, cert, chain[1])
    _check_policies(info, cert, rules)
    value = _identity_value(info, cert, rules)
    links = tuple(
        (c.issuer.rfc4514_string(), c.serial_number, c.subject.rfc4514_string()) for c in chain[:-1]
    )
    cas = chain[1:]
    ca_not_after = min((c.not_valid_after_utc for c in cas), default=None)
    return _Path(info, links, ca_not_after, value)


def _check_policies(info: CertInfo, cert: x509.Certificate, rules: AnchorRules) -> None:
    if not rules.require_policies:
        return
    try:
        ext = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
        asserted = {p.policy_identifier.dotted_string for p in ext}
    except x509.ExtensionNotFound:
        asserted = set()
    for oid in rules.require_policies:
        if oid not in asserted:
            raise rejected(
                info, f"It does not assert the policy {oid} that anchor {rules.name} requires."
            )


def identity_value(cert: x509.Certificate, rules: AnchorRules) -> str:
    """The value ``rules`` names the holder of ``cert`` by ("" for the subject rule); a
    LoginFailure when the certificate carries none it can use."""
    return _identity_value(describe(cert), cert, rules)


def _identity_value(info: CertInfo, cert: x509.Certificate, rules: AnchorRules) -> str:
    """The value the anchor's rule names the person by ("" for the subject rule)."""
    if rules.identity == "upn":
        found = upns(cert)
        if len(found) != 1:
            what = "No UPN" if not found else "More than one UPN"
            raise rejected(
                info, f"{what} in its SAN; anchor {rules.name} names people by their UPN."
            )
        upn = found[0]
        local, _, domain = upn.rpartition("@")
        if domain.lower() == "mil":
            # A DoD card: the EDIPI is the UPN's local part and the end of LAST.FIRST.MIDDLE.EDIPI.
            names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
            cn = str(names[0].value) if names else ""
            if cn.rsplit(".", 1)[-1] != local:
                raise rejected(
                    info, f"Its UPN {upn} does not match the EDIPI at the end of its CN {cn!r}."
                )
        return upn
    if rules.identity == "email":
        try:
            sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            emails = sans.get_values_for_type(x509.RFC822Name)
        except x509.ExtensionNotFound:
            emails = []
        if len(emails) != 1:
            what = "No email address" if not emails else "More than one email address"
            raise rejected(
                info, f"{what} in its SAN; anchor {rules.name} names people by their email."
            )
        return emails[0].lower()
    return ""


def _check_common_name(info: CertInfo, cert: x509.Certificate, issuer: x509.Certificate) -> None:
    try:
        sans = list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        sans = []
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    try:
        constraints.check(constraints.of(issuer), sans, str(names[0].value) if names else "")
    except InputError as exc:
        raise rejected(info, "Outside the name constraints of its CA.") from exc


def _index_crls(
    crls: tuple[x509.CertificateRevocationList, ...], cas: tuple[x509.Certificate, ...]
) -> dict[str, _Revocations]:
    """Each CA's CRL, keeping only CRLs whose signature the CA verifies (RFC 5280 section 6.3.3)."""
    out: dict[str, _Revocations] = {}
    for crl in crls:
        for ca in cas:
            if ca.subject == crl.issuer and crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
                serials = SerialSet((r.serial_number for r in crl), len(crl))
                out[ca.subject.rfc4514_string()] = _Revocations(serials, crl.next_update_utc)
    return out
