"""The cost of certificate login: an authenticated API GET through nginx (keep-alive, client
certificate) with identity on, the same GET with identity replaced by a fixed user, and an nginx
static file as the ceiling. Throughput is measured with curl (one process, keep-alive connections,
C speed) in interleaved rounds, best of each; ratios are within this run.

Target: identity costs at most 5% of throughput (on/off >= 0.95).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harness.pki_site import UserCert
from tests.harness.stack import EdgeStack

REQUESTS = int(os.environ.get("BENCH_EDGE_REQUESTS", "1000"))
CONNECTIONS = 4
ROUNDS = 5
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
        (root / "on").mkdir()
        (root / "off").mkdir()
        repo = str(Path(__file__).resolve().parents[2])
        off_env = {"DJANGO_SETTINGS_MODULE": "tests.bench.identity_off", "PYTHONPATH": repo}
        # The database comes from $DATABASE_URL as in the tests (SQLite by default).
        with (
            EdgeStack.running(root / "on") as on,
            EdgeStack.running(root / "off", extra_env=off_env) as off,
        ):
            on_user = on.new_user("Bench User", role="viewer")
            off_user = off.new_user("Bench User", role="viewer")
            configs = {
                "nginx static file": (on, on_user, "/index.html"),
                "API GET, identity on": (on, on_user, ENDPOINT),
                "API GET, identity off": (off, off_user, ENDPOINT),
            }
            paths = {}
            for i, (label, (stack, user, target)) in enumerate(configs.items()):
                paths[label] = root / f"curl-{i}.cfg"
                _curl_config(paths[label], stack, user, target, REQUESTS)
                _curl_config(root / "warm.cfg", stack, user, target, REQUESTS)
                _throughput(root / "warm.cfg")  # warm caches, workers and connections
            best = dict.fromkeys(configs, 0.0)
            for _ in range(ROUNDS):
                for label, path in paths.items():
                    best[label] = max(best[label], _throughput(path))
    print(
        f"edge: {REQUESTS} GETs x {ROUNDS} rounds, {CONNECTIONS} keep-alive connections, "
        "client certificate, best round"
    )
    for label, rate in best.items():
        print(f"  {label:<24} {rate:9.0f} req/s")
    ratio = best["API GET, identity on"] / best["API GET, identity off"]
    verdict = "meets" if ratio >= 0.95 else "misses"
    print(
        f"  identity on/off throughput ratio {ratio:.3f} (auth costs {100 * (1 - ratio):.1f}%; "
        f"target <= 5%: {verdict})"
    )
    print(
        "  API/static ratio "
        f"{best['API GET, identity on'] / best['nginx static file']:.3f} (nginx ceiling)"
    )


if __name__ == "__main__":
    main()
