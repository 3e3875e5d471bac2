"""The supply error tree: one root, mapped to HTTP responses in one place
(`supply.api.exceptions.exception_handler`) and to one line on stderr in one place
(`supply.commands.SupplyCommand`). Every message reads `what: Sentence that says what to do.`

    SupplyError               400 invalid_operation       an operation invalid as asked
    ├── InsufficientStock     409 insufficient_stock      more than on hand
    ├── HistoryFrozen         409 history_frozen          a change that rewrites past ledger rows
    ├── AppendOnlyError       409 append_only             code that changes or deletes a ledger row
    ├── IdempotencyKeyReused  422 idempotency_key_reused  the same key with another request body
    ├── ConfigurationError    400 configuration           a setting or option the service cannot use
    ├── CatalogImportError    400 invalid_catalog         a catalog file, with its row errors
    ├── IdentityError         400 invalid_identity        a provisioning mistake
    ├── BackupError           400 invalid_backup          a backup not made, or refused by restore
    └── LoginFailure          403 certificate_<reason>    a certificate that logs nobody in

CatalogImportError is in supply.catalog.importer, IdentityError and LoginFailure in
supply.identity.errors, BackupError in supply.backup.errors.
"""

from __future__ import annotations


class SupplyError(Exception):
    """What the service refuses. `code` is a stable machine-readable name, `message` one line."""

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


class AppendOnlyError(SupplyError):
    """Corrections are new ledger rows; no code path may rewrite or remove one."""

    status_code = 409
    code = "append_only"


class IdempotencyKeyReused(SupplyError):
    status_code = 422
    code = "idempotency_key_reused"


class ConfigurationError(SupplyError):
    code = "configuration"
