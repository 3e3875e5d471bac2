"""The `pki` command through Typer's CliRunner: exact output, one-line errors, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from typer.testing import CliRunner, Result

from pki.cli import app
from pki.home import PkiHome
from tests.pki.checks import fails, ok
from tests.pki.conftest import PASSPHRASE, PASSWORD, PEM_PASSWORD, mode

NAMES = ["Doe, Jane", "José Núñez", 'Smith + "Jr"']


@pytest.fixture
def cli(tmp_path: Path, clean_env: None):
    """Run `pki --home HOME ...` with the secrets in 0600 files, as an operator would."""
    home = tmp_path / "pki"
    passphrase = tmp_path / "passphrase"
    passphrase.write_bytes(PASSPHRASE + b"\n")
    password = tmp_path / "password"
    password.write_bytes(PASSWORD + b"\n")
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        argv = ["--home", str(home), *args]
        argv = [a.replace("@PP", str(passphrase)).replace("@PW", str(password)) for a in argv]
        return runner.invoke(app, argv, env=env)

    invoke.home = PkiHome(home)  # type: ignore[attr-defined]
    return invoke


def init(cli) -> str:
    return ok(
        cli("init-ca", "--name", "Fleet Root CA", "--org", "Fleet", "--passphrase-file", "@PP")
    )


def test_init_ca_output_and_refusal(cli) -> None:
    out = init(cli)
    home = cli.home
    lines = out.splitlines()
    assert re.fullmatch(
        r"Created CA CN=Fleet Root CA,O=Fleet \(ec-p256\), valid until \d{4}-\d\d-\d\d\.", lines[0]
    )
    assert lines[1:4] == [
        f"  certificate: {home.ca_cert}",
        f"  key:         {home.ca_key} (encrypted)",
        f"  CRL:         {home.crl}",
    ]
    fails(
        cli("init-ca", "--name", "Again", "--passphrase-file", "@PP"),
        f"CA: {home.ca_cert} exists already; refusing to overwrite it.",
    )


def test_commands_without_ca(cli) -> None:
    home = cli.home
    message = f"CA: No CA in {home.root}; create one with `pki init-ca`."
    fails(cli("issue-server", "web", "--passphrase-file", "@PP"), message)
    fails(cli("issue-user", "Jane", "--passphrase-file", "@PP", "--password-file", "@PW"), message)
    fails(cli("list"), message)
    fails(cli("show", "web"), message)
    fails(cli("crl", "--passphrase-file", "@PP"), message)


def test_secrets_never_prompted_without_terminal(cli) -> None:
    init(cli)
    fails(
        cli("issue-server", "web"),
        "CA passphrase: Give --passphrase-file or set PKI_CA_PASSPHRASE "
        "(no terminal to prompt on).",
    )
    fails(
        cli("issue-server", "web", env={"PKI_CA_PASSPHRASE": "wrong passphrase"}),
        "CA passphrase: Wrong passphrase (cannot decrypt the key).",
    )
    ok(cli("issue-server", "web", env={"PKI_CA_PASSPHRASE": PASSPHRASE.decode()}))


def test_issue_server(cli) -> None:
    init(cli)
    out = ok(
        cli(
            "issue-server",
            "web.example",
            "--san",
            "10.0.0.5",
            "--san",
            "edge",
            "--passphrase-file",
            "@PP",
        )
    )
    d = cli.home.server_dir("web.example")
    serial = out.split()[3]
    assert out.splitlines()[0] == (
        f"Issued server certificate {serial} for DNS:web.example, IP:10.0.0.5, DNS:edge."
    )
    assert f"  key:         {d / 'key.pem'} (unencrypted, 0600)" in out.splitlines()
    fails(
        cli("issue-server", "web", "--san", "not a name", "--passphrase-file", "@PP"),
        "SAN: 'not a name' is neither an IP address nor a valid DNS name.",
    )
    fails(
        cli("issue-server", "web.example", "--passphrase-file", "@PP"),
        f"name: web.example has a valid certificate already ({serial}); "
        "pass --replace to supersede it.",
    )
    out = ok(cli("issue-server", "web.example", "--replace", "--passphrase-file", "@PP"))
    assert out.splitlines()[-1] == f"Revoked {serial} as superseded; run `pki crl` to publish."


@pytest.mark.parametrize("legacy", [False, True])
def test_issue_user_p12_with_password_file(cli, legacy: bool) -> None:
    init(cli)
    args = [
        "issue-user",
        "Doe, Jane",
        "--email",
        "jane@example.org",
        "--p12",
        "--passphrase-file",
        "@PP",
        "--password-file",
        "@PW",
    ]
    out = ok(cli(*args, *(["--legacy"] if legacy else [])))
    serial = out.split()[3]
    p12 = cli.home.user_p12(serial, "Doe, Jane")
    assert p12.name == f"Doe_Jane-{serial}.p12"
    encoding = "legacy 3DES/SHA-1" if legacy else "AES-256/PBKDF2"
    assert out.splitlines()[0] == rf"Issued user certificate {serial} for CN=Doe\, Jane,O=Fleet."
    assert out.splitlines()[2] == f"  .p12:        {p12} ({encoding})"
    assert "password" not in out
    bundle = pkcs12.load_pkcs12(p12.read_bytes(), PASSWORD)
    assert bundle.cert is not None and bundle.cert.friendly_name == b"Doe, Jane"


def test_issue_user_generated_password_shown_once(cli, tmp_path: Path) -> None:
    init(cli)
    out_file = tmp_path / "jane.p12"
    out = ok(cli("issue-user", "Jane", "--out", str(out_file), "--passphrase-file", "@PP"))
    match = re.search(r"^  password:    (\S+)  \(shown once; hand it over apart\)$", out, re.M)
    assert match is not None
    assert pkcs12.load_pkcs12(out_file.read_bytes(), match.group(1).encode()).key is not None
    fails(
        cli("issue-user", "Jane", "--out", str(out_file), "--passphrase-file", "@PP"),
        f"out: {out_file} exists already.",
    )


def test_issue_user_password_from_env(cli) -> None:
    init(cli)
    out = ok(
        cli(
            "issue-user",
            "Jane",
            "--passphrase-file",
            "@PP",
            env={"PKI_P12_PASSWORD": "env-password"},
        )
    )
    p12 = cli.home.user_p12(out.split()[3], "Jane")
    assert pkcs12.load_pkcs12(p12.read_bytes(), b"env-password").key is not None


def test_issue_user_argument_errors(cli, tmp_path: Path) -> None:
    init(cli)
    fails(
        cli("issue-user", "--passphrase-file", "@PP"),
        "FULL_NAME: Give a full name or --from CSV, not both or neither.",
    )
    fails(
        cli(
            "issue-user",
            "Jane",
            "--key-type",
            "ed25519",
            "--passphrase-file",
            "@PP",
            "--password-file",
            "@PW",
        ),
        "key type: Unknown key type 'ed25519'; "
        "choose one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096.",
    )
    fails(
        cli("issue-user", "Jane", "--pem", "--legacy", "--passphrase-file", "@PP"),
        "--legacy: Applies to .p12 files only, not to --pem.",
    )
    fails(
        cli("issue-user", "Jane", "--out-dir", str(tmp_path), "--passphrase-file", "@PP"),
        "--out-dir: Only with --from; for one user give --out FILE.",
    )
    missing = tmp_path / "nope.csv"
    fails(
        cli("issue-user", "--from", str(missing), "--passphrase-file", "@PP"),
        f"CSV: Cannot read {missing} (No such file or directory).",
    )


def test_list_and_show_round_trip_names(cli) -> None:
    init(cli)
    serials = {}
    for name in NAMES:
        out = ok(cli("issue-user", name, "--passphrase-file", "@PP", "--password-file", "@PW"))
        serials[name] = out.split()[3]
    rows = json.loads(ok(cli("list", "--json", "--kind", "user")))
    assert [r["name"] for r in rows] == NAMES
    assert [r["subject"] for r in rows] == [
        r"CN=Doe\, Jane,O=Fleet",
        "CN=José Núñez,O=Fleet",
        r"CN=Smith \+ \"Jr\",O=Fleet",
    ]
    for name in NAMES:
        shown = json.loads(ok(cli("show", name, "--json")))
        assert shown["name"] == name and shown["serial"] == serials[name]
        assert shown["subject"] == next(r["subject"] for r in rows if r["name"] == name)
    text = ok(cli("show", serials["José Núñez"].lower()))
    assert "subject:    CN=José Núñez,O=Fleet\n" in text
    assert "status:     valid\n" in text
    table = ok(cli("list")).splitlines()
    assert table[0].split() == ["SERIAL", "KIND", "STATUS", "ISSUED", "NOT", "AFTER", "NAME"]
    assert table[2].endswith("  Doe, Jane") and table[3].endswith("  José Núñez")
    fails(cli("show", "nobody"), "ID: No certificate with serial or name 'nobody'.")


def test_revoke_crl_and_list_revoked(cli) -> None:
    init(cli)
    serial = ok(
        cli("issue-user", "Jane", "--passphrase-file", "@PP", "--password-file", "@PW")
    ).split()[3]
    out = ok(cli("revoke", "Jane", "--reason", "keyCompromise"))
    assert (
        out == f"Revoked {serial} (Jane) as keyCompromise.\n"
        "Run `pki crl` and reload nginx to publish the revocation.\n"
    )
    revoked_on = json.loads(ok(cli("show", serial, "--json")))["revoked_at"][:10]
    fails(
        cli("revoke", "Jane", "--reason", "keyCompromise"),
        f"ID: {serial} is already revoked (keyCompromise, {revoked_on}).",
    )
    fails(
        cli("revoke", serial, "--reason", "stolen"),
        "reason: Unknown reason 'stolen'; choose one of unspecified, keyCompromise, cACompromise, "
        "affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, aACompromise.",
    )
    out = ok(cli("crl", "--passphrase-file", "@PP"))
    assert re.fullmatch(
        rf"Wrote CRL #2 \(1 revoked\) to {re.escape(str(cli.home.crl))}; "
        r"next update \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Reload nginx to use it\.\n",
        out,
    )
    revoked = json.loads(ok(cli("list", "--revoked", "--json")))
    assert [(r["serial"], r["status"], r["reason"]) for r in revoked] == [
        (serial, "revoked", "keyCompromise")
    ]


def test_crl_near_expiry_warns_loudly(cli) -> None:
    init(cli)
    result = cli("crl", "--days", "3", "--passphrase-file", "@PP")
    assert result.exit_code == 0
    assert result.stderr.startswith("WARNING: the CRL expires at ")
    assert result.stderr.endswith(
        "after that nginx rejects EVERY client certificate. "
        "Run `pki crl` and reload nginx before then.\n"
    )
    listed = cli("list")
    assert listed.exit_code == 0 and listed.stderr == result.stderr
    fresh = cli("crl", "--passphrase-file", "@PP")
    assert fresh.exit_code == 0 and fresh.stderr == ""


def test_unwritable_home_is_one_line(tmp_path: Path, clean_env: None) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    pp = tmp_path / "pp"
    pp.write_bytes(PASSPHRASE)
    result = CliRunner().invoke(
        app,
        ["--home", str(blocker / "pki"), "init-ca", "--name", "X", "--passphrase-file", str(pp)],
    )
    assert result.exit_code == 1
    assert result.stderr == f"error: Not a directory ({blocker / 'pki'}).\n"


def test_home_from_environment(tmp_path: Path, clean_env: None) -> None:
    pp = tmp_path / "pp"
    pp.write_bytes(PASSPHRASE)
    result = CliRunner().invoke(
        app,
        ["init-ca", "--name", "X", "--passphrase-file", str(pp)],
        env={"PKI_HOME": str(tmp_path / "envhome")},
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "envhome" / "ca" / "cert.pem").exists()


def test_help_lists_every_command_and_loads_lazy_ones(clean_env: None) -> None:
    out = ok(CliRunner().invoke(app, ["--help"]))
    names = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert names == [
        "init-ca",
        "sign-ca",
        "import-ca",
        "import-crl",
        "issue-server",
        "issue-user",
        "sign",
        "renew",
        "list",
        "show",
        "revoke",
        "crl",
        "log",
        "backup",
        "restore",
        "trust",
        "release",
        "nginx-config",
    ]
    assert "Usage: pki nginx-config [OPTIONS]" in ok(
        CliRunner().invoke(app, ["nginx-config", "--help"])
    )


def test_cli_start_does_not_import_x509() -> None:
    import subprocess
    import sys

    code = "import sys, pki.cli; print('cryptography.x509' in sys.modules, 'jinja2' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout == "False False\n", result.stderr


def test_init_ca_refuses_a_short_passphrase(cli, tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_bytes(b"fifteen chars!!\n")
    fails(
        cli("init-ca", "--name", "Fleet Root CA", "--passphrase-file", str(short)),
        "CA passphrase: Too short; use at least 16 characters.",
    )
    assert not cli.home.ca_cert.exists() and not cli.home.ca_key.exists()


def test_issue_user_pem(cli, tmp_path: Path) -> None:
    init(cli)
    pem_password = tmp_path / "pem-password"
    pem_password.write_bytes(PEM_PASSWORD + b"\n")
    fails(
        cli("issue-user", "Jane", "--pem", "--passphrase-file", "@PP", "--password-file", "@PW"),
        "password: Too short; use at least 16 characters.",
    )
    out = ok(
        cli(
            "issue-user",
            "Doe, Jane",
            "--pem",
            "--passphrase-file",
            "@PP",
            "--password-file",
            str(pem_password),
        )
    )
    serial = out.split()[3]
    cert_file = cli.home.users_dir / f"{serial}-cert.pem"
    key_file = cli.home.users_dir / f"{serial}-key.pem"
    assert out.splitlines()[2:] == [
        f"  certificate: {cert_file} (with the CA certificate)",
        f"  key:         {key_file} (encrypted with the password)",
    ]
    assert "password:" not in out
    certs = x509.load_pem_x509_certificates(cert_file.read_bytes())
    assert [c.subject.rfc4514_string() for c in certs] == [
        r"CN=Doe\, Jane,O=Fleet",
        "CN=Fleet Root CA,O=Fleet",
    ]
    assert f"{certs[0].serial_number:X}" == serial.lstrip("0")
    key = load_pem_private_key(key_file.read_bytes(), password=PEM_PASSWORD)
    assert key.public_key() == certs[0].public_key()
    assert mode(cert_file) == mode(key_file) == 0o600
    assert list(cli.home.users_dir.glob("*.p12")) == []


def test_list_expiring_within(cli) -> None:
    init(cli)
    soon = ok(
        cli(
            "issue-user",
            "Soon",
            "--days",
            "5",
            "--passphrase-file",
            "@PP",
            "--password-file",
            "@PW",
        )
    ).split()[3]
    ok(
        cli(
            "issue-user",
            "Later",
            "--days",
            "300",
            "--passphrase-file",
            "@PP",
            "--password-file",
            "@PW",
        )
    )
    gone = ok(
        cli(
            "issue-user",
            "Gone",
            "--days",
            "5",
            "--passphrase-file",
            "@PP",
            "--password-file",
            "@PW",
        )
    ).split()[3]
    ok(cli("revoke", gone, "--reason", "cessationOfOperation"))
    rows = json.loads(ok(cli("list", "--expiring-within", "30", "--json")))
    assert [(r["serial"], r["name"]) for r in rows] == [(soon, "Soon")]
    table = ok(cli("list", "--expiring-within", "30")).splitlines()
    assert len(table) == 2 and table[1].startswith(soon) and table[1].endswith("  Soon")
    everything = json.loads(ok(cli("list", "--expiring-within", "400", "--json")))
    assert [r["name"] for r in everything] == ["Soon", "Later"]  # the CA lasts ten years
    fails(
        cli("list", "--expiring-within", "-1"),
        "expiring-within: Give a number of days >= 0, not -1.",
    )


def test_option_mistakes_are_one_line_usage_errors(cli, tmp_path: Path) -> None:
    init(cli)
    cases = [
        (("revoke", "Jane"), "pki revoke: Missing option '--reason'. See `pki revoke --help`."),
        (
            ("issue-user", "--from", str(tmp_path)),
            f"pki issue-user: Invalid value for '--from': File '{tmp_path}' is a directory. "
            "See `pki issue-user --help`.",
        ),
        (
            ("list", "--expiring-within", "soon"),
            "pki list: Invalid value for '--expiring-within': 'soon' is not a valid int. "
            "See `pki list --help`.",
        ),
    ]
    for args, message in cases:
        result = cli(*args)
        assert (result.exit_code, result.stderr) == (2, message + "\n")
        assert result.stdout == ""


def test_version_is_the_projects(clean_env: None) -> None:
    from importlib import metadata

    out = ok(CliRunner().invoke(app, ["--version"]))
    assert out == f"pki (tactical-edge) {metadata.version('tactical-edge')}\n"


def test_a_second_user_of_the_same_name_is_warned_and_told_apart(cli) -> None:
    init(cli)
    secrets = ("--passphrase-file", "@PP", "--password-file", "@PW")
    first = cli(
        "issue-user", "Jane Doe", "--email", "jane@deck.example", "--org-unit", "Deck", *secrets
    )
    assert first.exit_code == 0 and first.stderr == ""
    first_serial = first.stdout.split()[3]
    second = cli("issue-user", "Jane Doe", "--org-unit", "Galley", *secrets)
    assert second.exit_code == 0
    assert second.stderr == (
        f"WARNING: name: 1 other valid certificate(s) are named 'Jane Doe' ({first_serial}); give "
        "a serial to `pki show` and `pki revoke`, and see `pki list` for what tells them apart.\n"
    )
    listed = ok(cli("list")).splitlines()
    assert listed[0].split() == ["SERIAL", "KIND", "STATUS", "ISSUED", "NOT", "AFTER", "NAME"]
    janes = [line for line in listed if "Jane Doe" in line]
    assert [line.split("Jane Doe", 1)[1] for line in janes] == [
        " (OU=Deck, jane@deck.example)",
        " (OU=Galley)",
    ]
    assert next(line for line in listed if "Fleet Root CA" in line).endswith("Fleet Root CA")
    shown = cli("show", "Jane Doe")
    assert shown.exit_code == 1
    assert "names several certificates" in shown.stderr and first_serial in shown.stderr


def test_shell_completion_knows_every_command(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    pki = str(Path(sys.executable).with_name("pki"))
    shown = subprocess.run(
        [pki, "--show-completion", "bash"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "complete -o default -F _pki_completion pki" in shown.stdout
    answers = {}
    for word in ("import-", "ng"):
        env = {**os.environ, "_PKI_COMPLETE": "complete_bash", "COMP_WORDS": f"pki {word}"}
        done = subprocess.run(
            [pki], env={**env, "COMP_CWORD": "1"}, capture_output=True, text=True, timeout=60
        )
        answers[word] = done.stdout.split()
    assert answers == {"import-": ["import-ca", "import-crl"], "ng": ["nginx-config"]}
