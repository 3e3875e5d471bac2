from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "supply.idempotency"
    label = "idempotency"
    verbose_name = "Idempotent requests"
