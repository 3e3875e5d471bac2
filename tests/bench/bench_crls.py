"""Large CRLs in the service: a national PKI publishes CRLs of hundreds of thousands of entries.

For CRLs of 10k, 100k and 1M entries, each in a fresh process (so its memory is its own): the
time to load the CRL into a worker's trust store (parse and index, done once per new CRL), the
memory that adds to the worker (VmRSS), and the time of one trust check (chain cached, CRL
lookup per request) as a ratio against the same process with a 10-entry CRL, timed in
alternating rounds. Run: ``make bench`` or ``python -m tests.bench crls``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (10_000, 100_000, 1_000_000)
ROUNDS = 7
CALLS = 2000


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _crl_pem(ca: object, entries: int) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    now = dt.datetime.now(dt.UTC)
    revoked = [
        x509.RevokedCertificateBuilder().serial_number(10**30 + n).revocation_date(now).build()
        for n in range(entries)
    ]
    # One builder with every entry: add_revoked_certificate copies the list each call.
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=ca.cert.subject,  # type: ignore[attr-defined]
        last_update=now,
        next_update=now + dt.timedelta(days=7),
        extensions=[],
        revoked_certificates=revoked,
    )
    crl = builder.sign(ca.key, hashes.SHA256())  # type: ignore[attr-defined]
    return crl.public_bytes(Encoding.PEM)


def measure(entries: int, directory: Path) -> dict[str, float]:
    """In this process: load a CRL of ``entries`` into a trust store and time checks."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from supply.identity.trust import AnchorRules, TrustStore
    from tests.harness.cards import make_national_pki, software_card

    pki = make_national_pki("Scale")
    rules = AnchorRules(name="scale", identity="upn")
    (directory / "cas.pem").write_bytes(pki.bundle)
    card, _ = software_card(pki.ca1, "DOE.JANE.Q.1234567890", "1234567890@mil")
    pem = card.public_bytes(Encoding.PEM).decode("ascii")
    other = pki.root.crl() + pki.ca2.crl()
    (directory / "small.pem").write_bytes(other + pki.ca1.crl())
    started = time.perf_counter()
    (directory / "big.pem").write_bytes(other + _crl_pem(pki.ca1, entries))
    made = time.perf_counter() - started
    small = TrustStore(directory / "cas.pem", directory / "small.pem", rules)
    small.check(pem)
    before = _rss_kib()
    big = TrustStore(directory / "cas.pem", directory / "big.pem", rules)
    started = time.perf_counter()
    big.check(pem)  # the first check parses and indexes the CRL
    load = time.perf_counter() - started
    grown = _rss_kib() - before
    ratios = []
    for _ in range(ROUNDS):
        times = []
        for store in (small, big):
            begun = time.perf_counter()
            for _ in range(CALLS):
                store.check(pem)
            times.append((time.perf_counter() - begun) / CALLS)
        ratios.append(times[1] / times[0])
    return {
        "made_s": made,
        "load_s": load,
        "rss_mib": grown / 1024,
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "check_us": times[1] * 1e6,
    }


def main() -> None:
    print(f"CRLs in a worker's trust store ({ROUNDS} alternating rounds of {CALLS} checks):")
    for entries in SIZES:
        with tempfile.TemporaryDirectory(prefix="bench-crls-") as tmp:
            done = subprocess.run(
                [sys.executable, "-m", "tests.bench.bench_crls", str(entries), tmp],
                capture_output=True,
                text=True,
                timeout=1800,
                check=True,
                env={**os.environ, "DJANGO_SETTINGS_MODULE": "supply.settings"},
            )
        r = json.loads(done.stdout.splitlines()[-1])
        print(
            f"  {entries:>9,} entries: load {r['load_s']:6.2f} s, +{r['rss_mib']:6.1f} MiB per "
            f"worker, check {r['check_us']:5.1f} us = {r['ratio']:.2f}x a 10-entry CRL's "
            f"({r['ratio_min']:.2f}-{r['ratio_max']:.2f}); making the CRL took {r['made_s']:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    result = measure(int(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(result))
