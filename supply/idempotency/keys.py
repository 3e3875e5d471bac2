"""Idempotency-Key for POSTs: a retry over a flaky link applies once (the four operations and the
catalog creates; `IdempotentCreateMixin`).

The key is scoped to the user. The first request stores its response with a hash of the request
(method, path, body); a retry with the same hash replays that response and applies nothing; the
same key with another request is refused (422). Only successful responses are stored: a refused
request changed nothing, so a retry may simply run again. Records expire after a TTL (days, since
sites reconnect late); expired ones are purged lazily and by `supply purge-idempotency-keys`.

Race safety: the record is inserted first, in the same transaction as the operation, under a unique
(user, key) constraint. A concurrent retry's insert waits for that transaction; if it commits, the
insert fails and the retry replays the stored response; if it rolls back, the retry runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from supply.errors import IdempotencyKeyReused, SupplyError
from supply.idempotency.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}\Z")

HEADER_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Retry-safe key (1-255 visible ASCII), scoped to the user: a retry with the same "
    "body replays the first response; another body is 422.",
)


def request_fingerprint(method: str, path: str, data: object) -> str:
    """SHA-256 over the method, path and canonical JSON of the parsed body."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise SupplyError(f"{HEADER}: Must be 1 to 255 visible ASCII characters.")
    return key


def purge_expired(ttl: timedelta, now: datetime | None = None) -> int:
    """Delete every record older than `ttl`; returns how many."""
    cutoff = (now or timezone.now()) - ttl
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def run_once(
    *,
    user: User,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    method: str,
    path: str,
    handler: Callable[[], Response],
) -> Response:
    """Run `handler` unless this user already used `key`; then replay or refuse."""
    check_key(key)
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=now - ttl).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path[:255],
                    request_hash=fingerprint,
                    status_code=0,
                    response_body={},
                    created_at=now,
                )
        except IntegrityError:
            return _replay(IdempotencyRecord.objects.get(user=user, key=key), fingerprint)
        response = handler()
        if not 200 <= response.status_code < 300:
            # Nothing applied; forget the key so a corrected retry may use it.
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.response_body = response.data
        record.save(update_fields=["status_code", "response_body"])
        return response


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            f"{HEADER}: This key was already used for a different request; use a new key."
        )
    return Response(
        record.response_body, status=record.status_code, headers={REPLAY_HEADER: "true"}
    )


class IdempotentCreateMixin:
    """A viewset's create() honours Idempotency-Key. List it before the DRF create mixin (or
    ModelViewSet) in the bases, so the real create runs inside `run_once`."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        parent_create: Callable[..., Response] = super().create  # type: ignore[misc]
        key = request.headers.get(HEADER)
        if key is None:
            return parent_create(request, *args, **kwargs)
        return run_once(
            user=request.user,  # type: ignore[arg-type]
            key=key,
            fingerprint=request_fingerprint(request.method or "", request.path, request.data),
            ttl=settings.SUPPLY_IDEMPOTENCY_TTL,
            method=request.method or "",
            path=request.path,
            handler=lambda: parent_create(request, *args, **kwargs),
        )
