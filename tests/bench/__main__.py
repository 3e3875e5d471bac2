"""Run the ``tests/bench/bench_*.py`` modules' ``main()`` in name order.

``python -m tests.bench`` runs them all; ``python -m tests.bench pki supply`` only the named ones
(``bench_pki.py``, ``bench_supply.py``). A module whose prerequisites are missing prints why and
returns; one that crashes is reported and the others still run (the exit status is then 1).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    available = {path.stem.removeprefix("bench_"): path for path in here.glob("bench_*.py")}
    unknown = [name for name in argv if name not in available]
    if unknown:
        choices = ", ".join(sorted(available))
        print(
            f"bench: Unknown benchmark {', '.join(unknown)}; choose from {choices}.",
            file=sys.stderr,
        )
        return 2
    failed: list[str] = []
    for short in sorted(argv or available):
        path = available[short]
        name = f"{__package__}.{path.stem}"
        print(f"== {path.stem}", flush=True)
        try:
            module = importlib.import_module(name)
            module.main()
        except Exception:
            traceback.print_exc()
            failed.append(path.stem)
        print(flush=True)
    if failed:
        print(f"benchmarks that crashed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
