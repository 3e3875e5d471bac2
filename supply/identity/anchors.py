"""Every trust anchor the service accepts certificates from: the site's own fleet chain (``local``)
and the PKIs added with ``pki trust add`` (their list is ``trust/anchors.json`` in the PKI home,
re-read when it changes, so ``pki trust add`` or ``remove`` reaches running workers at once).

A certificate belongs to the anchor holding the CA that issued it (a CA belongs to one anchor,
which ``pki trust add`` enforces), so one anchor verifies it; an anchor with a stale CRL refuses
only its own certificates.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography import x509

from pki import anchor_store
from pki.certinfo import load_pem
from pki.errors import CertificateError
from pki.home import PkiHome
from supply.identity.trust import LOCAL, AnchorRules, TrustStore, Verified, rejected
from supply.identity.watch import WatchedFile

_CHOSEN_SIZE = 4096


def _parse_registry(data: bytes) -> tuple[AnchorRules, ...]:
    return tuple(
        AnchorRules(
            name=a.name,
            identity=a.identity,
            require_policies=a.require_policies,
            crl_grace_days=a.crl_grace_days,
            default_role=a.default_role,
        )
        for a in anchor_store.parse_registry(data)
    )


class TrustAnchors:
    """The local trust store and one per added anchor, chosen by the leaf's issuer."""

    def __init__(self, ca_file: Path, crl_file: Path, registry: Path | None = None) -> None:
        self.local = TrustStore(ca_file, crl_file, LOCAL)
        self._registry = WatchedFile(registry, _parse_registry) if registry else None
        self._version: object = None
        self._stores: tuple[TrustStore, ...] = ()
        self._chosen: dict[tuple[str, object, tuple[object, ...]], TrustStore] = {}
        self._lock = threading.Lock()

    def anchors(self) -> tuple[TrustStore, ...]:
        """The local store first, then the added anchors' (an unreadable list adds none: their
        certificates are refused, the site's own still log in)."""
        if self._registry is None:
            return (self.local,)
        try:
            rules = self._registry.get()
        except (OSError, ValueError, KeyError, TypeError):  # absent or unreadable
            return (self.local,)
        if self._registry.version != self._version:
            home = PkiHome(self._registry.path.parent.parent)
            stores = tuple(
                TrustStore(
                    anchor_store.cas_path(home, r.name), anchor_store.crl_bundle(home, r.name), r
                )
                for r in rules
            )
            with self._lock:
                self._stores, self._version = stores, self._registry.version
        return (self.local, *self._stores)

    def store_for(self, issuer: x509.Name) -> TrustStore:
        for store in self.anchors():
            if issuer in store.subjects():
                return store
        return self.local  # its refusal says the certificate is not from a trusted CA

    def check(self, pem: str) -> Verified:
        """The certificate and its identity under its anchor, else LoginFailure."""
        stores = self.anchors()
        if len(stores) == 1:
            return self.local.check(pem)  # no other anchor: nothing to choose
        # Which anchor a certificate belongs to is remembered per certificate and anchor list,
        # so a login parses the certificate once, not on every request.
        key = (pem, self._version, tuple(s.ca_version for s in stores))
        store = self._chosen.get(key)
        if store is None:
            try:
                issuer = load_pem(pem.encode("ascii")).issuer
            except (CertificateError, UnicodeEncodeError) as exc:
                raise rejected(None, "Not a PEM certificate.") from exc
            store = self.store_for(issuer)
            with self._lock:
                if len(self._chosen) >= _CHOSEN_SIZE:
                    self._chosen.clear()
                self._chosen[key] = store
        return store.check(pem)

    def rules(self, name: str) -> AnchorRules | None:
        for store in self.anchors():
            if store.rules.name == name:
                return store.rules
        return None
