from __future__ import annotations

import re
from pathlib import Path

import pytest

from pki.errors import PassphraseError
from pki.secrets import generate_password, read_secret_file, resolve


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"s3cret pass\n", b"s3cret pass"),
        (b"s3cret pass\r\nsecond line\n", b"s3cret pass"),
        (b"no newline", b"no newline"),
        (b"  spaces kept  \n", b"  spaces kept  "),
        ("pässwörd\n".encode(), "pässwörd".encode()),
    ],
)
def test_secret_file_first_line(tmp_path: Path, content: bytes, expected: bytes) -> None:
    path = tmp_path / "secret"
    path.write_bytes(content)
    assert read_secret_file(path, "password") == expected


def test_secret_file_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"\nsecond\n")
    with pytest.raises(PassphraseError) as err:
        read_secret_file(empty, "CA passphrase")
    assert str(err.value) == f"CA passphrase: The first line of {empty} is empty."
    with pytest.raises(PassphraseError) as err:
        read_secret_file(tmp_path / "missing", "password")
    assert (
        str(err.value)
        == f"password: Cannot read {tmp_path / 'missing'} (No such file or directory)."
    )


def test_resolve_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_text("from-file\n")
    monkeypatch.setenv("PKI_TEST_SECRET", "from-env")
    asked: list[str] = []

    def prompt() -> str:
        asked.append("x")
        return "from-prompt"

    assert resolve(what="p", file=path, env="PKI_TEST_SECRET", prompt=prompt).value == b"from-file"
    assert resolve(what="p", file=None, env="PKI_TEST_SECRET", prompt=prompt).value == b"from-env"
    monkeypatch.delenv("PKI_TEST_SECRET")
    assert (
        resolve(what="p", file=None, env="PKI_TEST_SECRET", prompt=prompt).value == b"from-prompt"
    )
    assert asked == ["x"]
    generated = resolve(
        what="p", file=None, env="PKI_TEST_SECRET", prompt=lambda: "", generate=True
    )
    assert generated.generated and len(generated.value) == 29
    with pytest.raises(PassphraseError) as err:
        resolve(what="CA passphrase", file=None, env="PKI_TEST_SECRET", prompt=None)
    assert str(err.value) == (
        "CA passphrase: Give --passphrase-file or set PKI_TEST_SECRET (no terminal to prompt on)."
    )


def test_generated_passwords_are_unambiguous_and_distinct() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for pw in passwords:
        assert re.fullmatch(r"([a-zA-Z0-9]{5}-){4}[a-zA-Z0-9]{5}", pw)
        assert not set(pw) & set("0O1lI")


def test_a_secret_file_open_to_others_is_used_with_a_warning(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pki.cli import app

    pp = tmp_path / "pp"
    pp.write_bytes(b"correct horse battery staple\n")
    pp.chmod(0o644)
    result = CliRunner().invoke(
        app,
        ["--home", str(tmp_path / "pki"), "init-ca", "--name", "X", "--passphrase-file", str(pp)],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        f"WARNING: CA passphrase: {pp} is open to other users (mode 0644); run `chmod 600 {pp}`.\n"
    )
    pp.chmod(0o600)
    again = CliRunner().invoke(
        app, ["--home", str(tmp_path / "pki"), "crl", "--passphrase-file", str(pp)]
    )
    assert again.exit_code == 0 and again.stderr == ""
