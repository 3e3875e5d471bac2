"""Liveness and readiness probes for nginx, compose health checks and orchestrators (no auth)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 whenever the process can answer; touches nothing else."""
    return JsonResponse({"status": "ok"})


def pending_migrations() -> list[str]:
    """Migrations not yet applied to the default database (raises DatabaseError if unreachable)."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(targets)]


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers and every migration is applied, else 503 with the reason."""
    try:
        pending = pending_migrations()
    except DatabaseError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return JsonResponse({"status": "database unreachable", "detail": first_line}, status=503)
    if pending:
        return JsonResponse({"status": "migrations pending", "pending": pending}, status=503)
    return JsonResponse({"status": "ready"})
