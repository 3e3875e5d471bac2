"""The backup app's branch of the supply error tree (supply/errors.py).

BackupError   a backup that cannot be made, or one refused by restore (damaged, foreign, or a
              target that already holds data); nothing was changed when it is raised
"""

from __future__ import annotations

from supply.errors import SupplyError


class BackupError(SupplyError):
    code = "invalid_backup"
