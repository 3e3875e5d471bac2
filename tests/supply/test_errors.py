"""One error tree for supply, mapped once for DRF and once for the commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from supply.backup.errors import BackupError
from supply.catalog.importer import CatalogImportError
from supply.commands import SupplyCommand
from supply.errors import (
    AppendOnlyError,
    ConfigurationError,
    HistoryFrozen,
    IdempotencyKeyReused,
    InsufficientStock,
    SupplyError,
)
from supply.identity.errors import IdentityError, LoginFailure

TREE = {
    SupplyError: (400, "invalid_operation"),
    InsufficientStock: (409, "insufficient_stock"),
    HistoryFrozen: (409, "history_frozen"),
    AppendOnlyError: (409, "append_only"),
    IdempotencyKeyReused: (422, "idempotency_key_reused"),
    ConfigurationError: (400, "configuration"),
    CatalogImportError: (400, "invalid_catalog"),
    IdentityError: (400, "invalid_identity"),
    BackupError: (400, "invalid_backup"),
}


@pytest.mark.parametrize("error", list(TREE), ids=lambda e: e.__name__)
def test_every_error_is_a_supply_error_with_its_status_and_code(error: type[SupplyError]) -> None:
    raised = error("what: Sentence.")
    assert isinstance(raised, SupplyError)
    assert (raised.status_code, raised.code, raised.message) == (*TREE[error], "what: Sentence.")


def test_a_login_failure_is_a_403_whose_code_names_its_reason() -> None:
    failure = LoginFailure("unknown", "certificate: Not registered here.")
    assert isinstance(failure, SupplyError)
    assert (failure.status_code, failure.code, failure.reason) == (
        403,
        "certificate_unknown",
        "unknown",
    )


def _supply_commands() -> list[str]:
    return sorted(name for name, app in get_commands().items() if app.startswith("supply."))


def test_every_supply_command_maps_errors_through_the_one_base() -> None:
    names = _supply_commands()
    assert {"grant", "import-catalog", "check-ledger", "serve"} <= set(names)
    for name in names:
        command = load_command_class(get_commands()[name], name)
        assert isinstance(command, SupplyCommand), name


@pytest.mark.django_db
def test_a_supply_error_in_a_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as caught:
        call_command("revoke-access", "--subject-dn", "CN=Nobody", "--issuer-dn", "CN=Some CA")
    assert str(caught.value) == "cert: No access is granted to CN=Nobody."
    assert re.fullmatch(r"[\w.\- ]+: [A-Z].*\.", str(caught.value))


_ERROR_NAMES = {cls.__name__ for cls in TREE} | {
    "LoginFailure",
    "CommandError",
    "_rejected",
    "Error",
}
# "X" alone: a message passed through (trust.py's _rejected prefixes its reasons itself).
_SENTENCE = re.compile(r"[^:\n]+: ([A-Z0-9X`'\"(].*[.?]|X)", re.DOTALL)


def _literal(node: object) -> str | None:
    """The text of a literal message (fields of an f-string and added values read as X)."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "X" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        if left is not None or right is not None:
            return (left or "X") + (right or "X")
    return None


def _messages() -> list[tuple[str, int, str]]:
    """Every literal message given to a supply error in the source: f-string fields read as X."""
    import ast
    from pathlib import Path

    found = []
    for path in sorted(Path("supply").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in _ERROR_NAMES:  # csv.Error: the importer's row faults
                continue
            for arg in node.args:
                text = _literal(arg)
                if text is None:
                    continue
                if name == "_rejected":
                    text = f"certificate: {text}"
                if " " in text:  # a message, not a LoginFailure reason such as "unknown"
                    found.append((str(path), node.lineno, text))
    return found


def test_every_message_reads_what_colon_sentence() -> None:
    messages = _messages()
    assert len(messages) > 30, "the scan finds the messages"
    wrong = [
        f"{path}:{line}: {text!r}" for path, line, text in messages if not _SENTENCE.fullmatch(text)
    ]
    assert not wrong, "\n".join(wrong)


def test_a_command_error_on_the_command_line_is_the_message_alone(tmp_path: Path) -> None:
    """One error form for both tools: `what: Sentence.` on stderr, no `CommandError:` prefix."""
    env = {
        **os.environ,
        "SUPPLY_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "supply.settings",
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("supply")), "grant", "--role", "viewer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        1,
        "--cert: Give --cert FILE, both --subject-dn and --issuer-dn, or --anchor with --upn "
        "or --email.\n",
    )
