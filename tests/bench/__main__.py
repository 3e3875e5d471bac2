"""Run every ``tests/bench/bench_*.py`` module's ``main()`` in name order.

A module whose prerequisites are missing prints why and returns; one that crashes is reported and
the others still run (the exit status is then 1).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    failed: list[str] = []
    for path in sorted(here.glob("bench_*.py")):
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
    sys.exit(main())
