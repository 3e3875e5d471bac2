"""The cost of certificate login: an authenticated API GET through nginx (keep-alive, client
certificate) with identity on, the same GET with identity replaced by a fixed user, the same GET
by a user whose certificate comes from a site's issuing CA under the fleet root (a two-level
chain), and an nginx static file as the ceiling. Throughput is measured with curl (one process,
keep-alive connections, C speed) in interleaved rounds; each ratio is taken within a round (so
both sides saw the same machine) and reported as the median with the spread over the rounds.

Targets: identity costs at most 5% of throughput (on/off >= 0.95); a request with a two-level
chain takes at most 10% more time than one with a root-issued certificate (chain/root <= 1.10).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harness.pki_site import UserCert
from tests.harness.stack import EdgeStack

REQUESTS = int(os.environ.get("BENCH_EDGE_REQUESTS", "1000"))
CONNECTIONS = 4
ROUNDS = int(os.environ.get("BENCH_EDGE_ROUNDS", "7"))
ENDPOINT = "/supply/api/units-of-issue/?page_size=5"


def _curl_config(path: Path, stack: EdgeStack, user: UserCert, target: str, count: int) -> None:
    assert user.p12 is not None
    lines = [
        f'cacert = "{stack.pki.ca_cert}"',
        f'cert = "{user.p12}:{user.password}"',
        "cert-type = P12",
        f'resolve = "localhost:{stack.port}:127.0.0.1"',
        'write-out = "%{http_code}\\n"',
        "silent",
    ]
    for _ in range(count):
        lines += [f'url = "{stack.url(target)}"', 'output = "/dev/null"']
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def _throughput(config: Path) -> float:
    """Requests per second of one curl run over CONNECTIONS keep-alive connections."""
    argv = ["curl", "-K", str(config), "--parallel", "--parallel-max", str(CONNECTIONS)]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - started
    codes = done.stdout.split()
    if done.returncode or len(codes) != REQUESTS or set(codes) != {"200"}:
        bad = sorted(set(codes) - {"200"})
        raise RuntimeError(f"bench requests failed (curl {done.returncode}, statuses {bad})")
    return REQUESTS / elapsed


def main() -> None:
    missing = [tool for tool in ("nginx", "curl", "openssl") if shutil.which(tool) is None]
    if missing:
        print(f"skipped: needs {', '.join(missing)}")
        return
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as tmp:
        root = Path(tmp)
        for name in ("on", "off", "chain"):
            (root / name).mkdir()
        repo = str(Path(__file__).resolve().parents[2])
        off_env = {"DJANGO_SETTINGS_MODULE": "tests.bench.identity_off", "PYTHONPATH": repo}
        # The database comes from $DATABASE_URL as in the tests (SQLite by default).
        with (
            EdgeStack.running(root / "on") as on,
            EdgeStack.running(root / "off", extra_env=off_env) as off,
            EdgeStack.running(root / "chain", fleet_root=root / "fleet-root") as chain,
        ):
            users = {
                stack: stack.new_user("Bench User", role="viewer") for stack in (on, off, chain)
            }
            configs = {
                "nginx static file": (on, "/index.html"),
                "API GET, identity on": (on, ENDPOINT),
                "API GET, identity off": (off, ENDPOINT),
                "API GET, two-level chain": (chain, ENDPOINT),
            }
            paths = {}
            for i, (label, (stack, target)) in enumerate(configs.items()):
                paths[label] = root / f"curl-{i}.cfg"
                _curl_config(paths[label], stack, users[stack], target, REQUESTS)
                _throughput(paths[label])  # warm caches, workers and connections
            rounds: list[dict[str, float]] = []
            for _ in range(ROUNDS):
                rounds.append({label: _throughput(path) for label, path in paths.items()})
    print(
        f"edge: {REQUESTS} GETs x {ROUNDS} interleaved rounds, {CONNECTIONS} keep-alive "
        "connections, client certificate"
    )
    for label in configs:
        rates = [r[label] for r in rounds]
        print(
            f"  {label:<26} {statistics.median(rates):9.0f} req/s median "
            f"({min(rates):.0f}-{max(rates):.0f})"
        )
    identity = [r["API GET, identity on"] / r["API GET, identity off"] for r in rounds]
    median = statistics.median(identity)
    verdict = "meets" if median >= 0.95 else "misses"
    print(
        f"  identity on/off throughput {median:.3f} median (rounds {min(identity):.3f}-"
        f"{max(identity):.3f}): identity costs {100 * (1 - median):.1f}% (target <= 5%: {verdict})"
    )
    # Time per request, chain over root-issued, within each round.
    chained = [r["API GET, identity on"] / r["API GET, two-level chain"] for r in rounds]
    median = statistics.median(chained)
    verdict = "meets" if median <= 1.10 else "misses"
    print(
        f"  two-level chain/root-issued time per request {median:.3f} median (rounds "
        f"{min(chained):.3f}-{max(chained):.3f}; target <= 1.10: {verdict})"
    )
    ceiling = [r["API GET, identity on"] / r["nginx static file"] for r in rounds]
    print(f"  API/static throughput {statistics.median(ceiling):.3f} median (nginx ceiling)")


if __name__ == "__main__":
    main()
