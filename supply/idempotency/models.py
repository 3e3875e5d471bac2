"""The stored response of an idempotent POST (see `supply.idempotency.keys`)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyRecord(models.Model):
    """The stored response of a POST made with an Idempotency-Key, per user and key.

    The unique constraint is what makes concurrent retries apply once: the second insert waits for
    the first transaction and then fails, and the second request replays the first's response."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        # The table it had in the inventory app, kept so no data moves (migrations 0001 here and
        # inventory 0004 move the model in Django's state only).
        db_table = "inventory_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} -> {self.status_code}"
