"""The cost of certificate login: an authenticated API GET through nginx (keep-alive, client
certificate) with identity on, the same GET with identity replaced by a fixed user, the same GET
by a user whose certificate comes from a site's issuing CA under the fleet root (a two-level
chain), and an nginx static file as the ceiling. Throughput is measured with curl (one process,
keep-alive connections, C speed) in interleaved rounds; each ratio is taken within a round (so
both sides saw the same machine) and reported as the median with the spread over the rounds.
Beside throughput, the CPU time the server side spent per request (nginx and gunicorn, every
process of their sessions, from /proc) is measured: other load on a shared machine stretches
wall time a lot and CPU time little, so its ratio is the steadier reading of what identity costs.

Targets: identity costs at most 5% of throughput (on/off >= 0.95); a request with a two-level
chain takes at most 10% more time than one with a root-issued certificate (chain/root <= 1.10).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
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


def _session_cpu(leader: int) -> float:
    """CPU seconds (user + system) of the live processes in the session ``leader`` started."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # After the command: state ppid pgrp session ... utime (12th) stime (13th).
        if int(fields[3]) == leader:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _server_cpu(stack: EdgeStack) -> float:
    assert stack.supply is not None and stack.nginx is not None
    return _session_cpu(stack.supply.child.pid) + _session_cpu(stack.nginx.child.pid)


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


def _in_process(server_ms: float) -> None:
    """The identity path timed in one process (tests/bench/identity_path.py), as a share of
    the server CPU an API GET took through the edge."""
    with tempfile.TemporaryDirectory(prefix="bench-identity-") as tmp:
        env = {
            **os.environ,
            "PKI_HOME": f"{tmp}/pki",
            "SUPPLY_DATA_DIR": f"{tmp}/data",
            "DATABASE_URL": f"sqlite:///{tmp}/identity.sqlite3",
            "SUPPLY_SECRET_KEY": "bench-" + "x" * 50,
            "SUPPLY_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "supply.settings",
        }
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench.identity_path", tmp],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
    lines = done.stdout.splitlines()
    print("\n".join(line for line in lines if not line.startswith("IDENTITY_US")))
    login_us, chain_us = (float(x) for x in lines[-1].split()[1:])
    share = login_us / (server_ms * 1000)
    verdict = "meets" if share <= 0.05 else "misses"
    print(
        f"  identity in-process is {100 * share:.1f}% of the API GET's server CPU per request "
        f"({server_ms:.2f} ms; target <= 5%: {verdict}); the chain's extra check is "
        f"{100 * chain_us / (server_ms * 1000):.2f}% of it"
    )


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
            cpu_rounds: list[dict[str, float]] = []  # server CPU ms per request
            for _ in range(ROUNDS):
                rates: dict[str, float] = {}
                cpus: dict[str, float] = {}
                for label, path in paths.items():
                    stack = configs[label][0]
                    before = _server_cpu(stack)
                    rates[label] = _throughput(path)
                    cpus[label] = (_server_cpu(stack) - before) * 1000 / REQUESTS
                rounds.append(rates)
                cpu_rounds.append(cpus)
    print(
        f"edge: {REQUESTS} GETs x {ROUNDS} interleaved rounds, {CONNECTIONS} keep-alive "
        "connections, client certificate"
    )
    for label in configs:
        rate_list = [r[label] for r in rounds]
        cpu_list = [r[label] for r in cpu_rounds]
        print(
            f"  {label:<26} {statistics.median(rate_list):7.0f} req/s median "
            f"({min(rate_list):.0f}-{max(rate_list):.0f}), server CPU "
            f"{statistics.median(cpu_list):.2f} ms/req ({min(cpu_list):.2f}-{max(cpu_list):.2f})"
        )
    identity = [r["API GET, identity on"] / r["API GET, identity off"] for r in rounds]
    median = statistics.median(identity)
    verdict = "meets" if median >= 0.95 else "misses"
    print(
        f"  identity on/off throughput {median:.3f} median (rounds {min(identity):.3f}-"
        f"{max(identity):.3f}): identity costs {100 * (1 - median):.1f}% (target <= 5%: {verdict})"
    )
    cpu_identity = [r["API GET, identity off"] / r["API GET, identity on"] for r in cpu_rounds]
    median = statistics.median(cpu_identity)
    verdict = "meets" if median >= 0.95 else "misses"
    print(
        f"  identity off/on server CPU per request {median:.3f} median (rounds "
        f"{min(cpu_identity):.3f}-{max(cpu_identity):.3f}): identity costs "
        f"{100 * (1 - median):.1f}% of the server's CPU (target <= 5%: {verdict})"
    )
    cpu_chain = [r["API GET, two-level chain"] / r["API GET, identity on"] for r in cpu_rounds]
    median = statistics.median(cpu_chain)
    print(
        f"  two-level chain/root-issued server CPU per request {median:.3f} median (rounds "
        f"{min(cpu_chain):.3f}-{max(cpu_chain):.3f}; target <= 1.10: "
        f"{'meets' if median <= 1.10 else 'misses'})"
    )
    # Time per request, chain over root-issued, within each round.
    chained = [r["API GET, identity on"] / r["API GET, two-level chain"] for r in rounds]
    median = statistics.median(chained)
    verdict = "meets" if median <= 1.10 else "misses"
    print(
        f"  two-level chain/root-issued time per request {median:.3f} median (rounds "
        f"{min(chained):.3f}-{max(chained):.3f}; target <= 1.10: {verdict})"
    )
    _in_process(statistics.median(r["API GET, identity on"] for r in cpu_rounds))
    ceiling = [r["API GET, identity on"] / r["nginx static file"] for r in rounds]
    print(f"  API/static throughput {statistics.median(ceiling):.3f} median (nginx ceiling)")


if __name__ == "__main__":
    main()
