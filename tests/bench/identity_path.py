"""The service's per-request identity work in one process, for ``bench_edge``: steady figures
where the throughput through nginx swings with the machine's load.

Run as ``python -m tests.bench.identity_path DIR`` (its own settings: a PKI home and SQLite under
DIR). Prints the time of ``certificate_login`` for a mapped, root-issued certificate (proxy
secret, trust store with its CRL check, cached user lookup), and of the trust store's check alone
for a root-issued and for a two-level chain, each as the median of several rounds of many calls,
with the spread; and a smart card's login (a national PKI's root, an ID CA, the card: a trust
anchor added with ``pki trust add``, identity by UPN) against the root-issued login, as the ratio
of the two timed in alternating rounds.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

ROUNDS = 7
CALLS = 3000
PASSPHRASE = b"identity path bench passphrase"
PASSWORD = b"identity path bench password"


def _per_call(fn: Callable[[], object]) -> tuple[float, float, float]:
    """Microseconds per call: median, min and max over the rounds."""
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(CALLS):
            fn()
        rounds.append((time.perf_counter() - started) / CALLS * 1e6)
    return statistics.median(rounds), min(rounds), max(rounds)


def _paired(a: Callable[[], object], b: Callable[[], object]) -> tuple[float, float, float]:
    """The ratio b/a of per-call times, a and b timed in alternating rounds: median, min, max."""
    ratios = []
    for _ in range(ROUNDS):
        times = []
        for fn in (a, b):
            started = time.perf_counter()
            for _ in range(CALLS):
                fn()
            times.append(time.perf_counter() - started)
        ratios.append(times[1] / times[0])
    return statistics.median(ratios), min(ratios), max(ratios)


def main(directory: Path) -> None:
    from pki.ca import init_ca
    from pki.home import PkiHome
    from pki.issue import UserRequest, issue_user
    from pki.nginx import ensure_proxy_secret
    from tests.harness.fleet import make_site

    root = PkiHome(directory / "pki")
    init_ca(root, name="Bench Root CA", org="Bench", passphrase=PASSPHRASE)
    site = make_site(root, directory / "site", "Bench Issuing CA", ("bench.fleet",), PASSPHRASE)
    request = UserRequest("Bench User", password=PASSWORD, pem=True)
    direct = issue_user(root, request, passphrase=PASSPHRASE).cert_path.read_text()
    chained = issue_user(site.home, request, passphrase=PASSPHRASE).cert_path.read_text()
    secret = ensure_proxy_secret(root)
    from cryptography.hazmat.primitives.serialization import Encoding

    from pki import anchors
    from tests.harness.cards import make_national_pki, software_card

    national = make_national_pki("Bench")
    anchors.add(root, "cards", national.bundle, crls=national.crls(), identity="upn")
    card_cert, _ = software_card(national.ca1, "DOE.JANE.Q.1234567890", "1234567890@mil")
    card = card_cert.public_bytes(Encoding.PEM).decode("ascii")

    import django

    django.setup()
    from cryptography import x509
    from django.core.management import call_command

    from supply.identity import login
    from supply.identity.services import Binding, grant
    from supply.identity.trust import TrustStore

    call_command("migrate", verbosity=0)
    grant(Binding.from_certificate(x509.load_pem_x509_certificate(direct.encode())), "viewer")
    meta = {
        login.SECRET_HEADER: secret,
        login.VERIFY_HEADER: "SUCCESS",
        login.CERT_HEADER: urllib.parse.quote(direct),
    }
    grant(Binding.from_value("cards", "upn", "1234567890@mil"), "viewer")
    card_meta = {**meta, login.CERT_HEADER: urllib.parse.quote(card)}
    if login.certificate_login(meta) is None or login.certificate_login(card_meta) is None:
        raise RuntimeError("the bench users do not log in")
    time.sleep(2.1)  # past the identity cache's "racily clean" window after the grant
    whole = _per_call(lambda: login.certificate_login(meta))
    root_store = TrustStore(root.trust_bundle, root.crl_bundle)
    site_store = TrustStore(site.home.trust_bundle, site.home.crl_bundle)
    one = _per_call(lambda: root_store.verify(direct))
    two = _per_call(lambda: site_store.verify(chained))
    cards = _paired(
        lambda: login.certificate_login(meta), lambda: login.certificate_login(card_meta)
    )
    print(f"  identity in-process ({ROUNDS} rounds of {CALLS} calls, median (min-max)):")
    print(f"    certificate login, root-issued  {whole[0]:6.1f} us ({whole[1]:.1f}-{whole[2]:.1f})")
    print(f"    trust check, root-issued        {one[0]:6.1f} us ({one[1]:.1f}-{one[2]:.1f})")
    print(f"    trust check, two-level chain    {two[0]:6.1f} us ({two[1]:.1f}-{two[2]:.1f})")
    verdict = "meets" if cards[0] <= 1.10 else "misses"
    print(
        f"    card login (3-level chain, UPN) / root-issued login: {cards[0]:.3f} "
        f"({cards[1]:.3f}-{cards[2]:.3f}); target <= 1.10: {verdict}"
    )
    print(f"IDENTITY_US {whole[0]:.1f} {two[0] - one[0]:.1f}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supply.settings")
    main(Path(sys.argv[1]))
