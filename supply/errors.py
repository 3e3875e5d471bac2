"""The supply domain error tree, mapped to HTTP responses in one place
(`supply.api.exception_handler`) and to one-line messages by the management commands.

    SupplyError                 400  an operation that is invalid as asked
    ├── InsufficientStock       409  more than on hand
    ├── HistoryFrozen           409  a change that would rewrite how past ledger rows read
    └── IdempotencyKeyReused    422  the same Idempotency-Key with another request body
"""

from __future__ import annotations


class SupplyError(Exception):
    """An operation the domain refuses. `code` is a stable machine-readable name."""

    status_code = 400
    code = "invalid_operation"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InsufficientStock(SupplyError):
    status_code = 409
    code = "insufficient_stock"


class HistoryFrozen(SupplyError):
    status_code = 409
    code = "history_frozen"


class IdempotencyKeyReused(SupplyError):
    status_code = 422
    code = "idempotency_key_reused"
