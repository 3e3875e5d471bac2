"""Settings for the benchmark's "identity off" service: the same project with certificate login
replaced by a fixed user (``fixed_user.py``), so the difference to the real settings is the cost of
identity alone. Never used outside ``tests/bench/bench_edge.py``."""

from __future__ import annotations

from supply.settings import *  # noqa: F403
from supply.settings import MIDDLEWARE, REST_FRAMEWORK

MIDDLEWARE = [m for m in MIDDLEWARE if "identity" not in m]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["tests.bench.fixed_user.FixedUserAuthentication"],
}
