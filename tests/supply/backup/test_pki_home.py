"""The PKI home in a backup: `pki backup`'s encrypted archive, logged in the home's audit log
when the home is writable and recorded in the manifest instead when it is read-only; restored
beside the database, after which the same certificate logs in as the same user."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pki import audit
from pki.home import PkiHome
from pki.nginx import ensure_proxy_secret
from supply.backup.archive import PkiSource, make_backup
from supply.backup.database import Database
from tests.harness.pki_site import PkiSite, UserCert
from tests.supply.backup.conftest import MAPPINGS, Databases, Stack

PASSPHRASE = "a backup passphrase, not the CA's"

# The real login path: the proxy secret, the trust store (chain and CRL) and the mapping.
LOGIN = """
import os, pathlib, urllib.parse
from django.conf import settings
from supply.identity.login import certificate_login
secret = pathlib.Path(settings.SUPPLY_PROXY_SECRET_FILE).read_text().splitlines()[0]
pem = pathlib.Path(os.environ["CERT"]).read_text()
login = certificate_login({"HTTP_X_PROXY_SECRET": secret, "HTTP_X_CLIENT_VERIFY": "SUCCESS",
                           "HTTP_X_CLIENT_CERT": urllib.parse.quote(pem)})
print(login.user.username, sorted(login.user.groups.values_list("name", flat=True)))
"""


def login(stack: Stack, user: UserCert) -> str:
    return stack.ok("shell", "-c", LOGIN, CERT=str(user.cert_pem))


@pytest.fixture
def site(tmp_path: Path) -> PkiSite:
    site = PkiSite(tmp_path / "site")
    site.write_crl()
    ensure_proxy_secret(PkiHome(site.home))
    return site


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "backup-passphrase"
    path.write_text(PASSPHRASE + "\n")
    os.chmod(path, 0o600)
    return path


def test_the_home_comes_along_and_the_same_certificate_logs_in(
    sqlite_databases: Databases, site: PkiSite, passphrase_file: Path, tmp_path: Path
) -> None:
    jane = site.issue_user("Doe, Jane")
    source = sqlite_databases.source()
    source.pki_home = site.home
    source.ok("grant", "--cert", jane.cert_pem, "--role", "clerk")
    logged_in = login(source, jane)
    assert logged_in.endswith(" ['clerk']\n")

    out = tmp_path / "backup"
    printed = source.ok("backup", "--out", out, "--passphrase-file", passphrase_file)
    files = json.loads((out / "manifest.json").read_text())["pki"]["files"]
    assert f"; PKI home {site.home} ({files} files, logged in its audit log); " in printed
    assert audit.entries(PkiHome(site.home))[-1].op == "backup"  # pki's own log, as `pki backup`
    assert sorted(p.name for p in out.iterdir()) == [
        "database.sqlite3",
        "manifest.json",
        "pki.backup",
    ]

    fresh = sqlite_databases.empty()
    fresh.pki_home = tmp_path / "restored-pki"
    printed = fresh.ok("restore", out, "--passphrase-file", passphrase_file)
    assert f"stock rows; PKI home into {fresh.pki_home}.\n" in printed
    assert audit.verify(PkiHome(fresh.pki_home)).count == len(audit.entries(PkiHome(site.home))) + 1
    assert fresh.rows(MAPPINGS) == source.rows(MAPPINGS)
    assert login(fresh, jane) == logged_in


def test_a_home_that_is_not_empty_or_a_wrong_passphrase_changes_nothing(
    sqlite_databases: Databases, site: PkiSite, passphrase_file: Path, tmp_path: Path
) -> None:
    source = sqlite_databases.source()
    source.pki_home = site.home
    out = tmp_path / "backup"
    source.ok("backup", "--out", out, PKI_BACKUP_PASSPHRASE=PASSPHRASE)

    fresh = sqlite_databases.migrated()
    fresh.pki_home = site.home  # the host's own home: in use
    before = fresh.fingerprint()
    done = fresh.supply("restore", out, "--passphrase-file", passphrase_file)
    assert (done.returncode, done.stderr) == (
        1,
        f"restore: The PKI home {site.home} is not empty; give --pki-home NEW_DIR, or --no-pki "
        "to restore the database alone.\n",
    )
    wrong = tmp_path / "restored-pki"
    done = fresh.supply("restore", out, "--pki-home", wrong, PKI_BACKUP_PASSPHRASE="not it at all")
    assert (done.returncode, done.stderr) == (
        1,
        f"restore: Wrong backup passphrase, or {out}/pki.backup is damaged or truncated; check "
        "the passphrase, then try another copy of the archive.\n",
    )
    assert not wrong.exists()
    assert fresh.fingerprint() == before
    # --no-pki: the database alone, the home left where it is.
    assert fresh.ok("restore", out, "--no-pki").endswith("\nThe ledger is consistent.\n")
    assert fresh.rows(MAPPINGS) == source.rows(MAPPINGS)


def test_no_passphrase_and_no_terminal_is_one_line(
    sqlite_databases: Databases, site: PkiSite, tmp_path: Path
) -> None:
    source = sqlite_databases.source()
    source.pki_home = site.home
    done = source.supply("backup", "--out", tmp_path / "backup")
    assert (done.returncode, done.stderr) == (
        1,
        "backup passphrase: Give --passphrase-file or set PKI_BACKUP_PASSPHRASE (no terminal to "
        "prompt on).\n",
    )
    assert not (tmp_path / "backup").exists()


def test_a_read_only_home_is_recorded_in_the_manifest_not_in_its_log(
    sqlite_databases: Databases, site: PkiSite, tmp_path: Path
) -> None:
    """What the compose service does (the home is mounted read-only there; `supply backup`
    takes this path when it cannot write the home)."""
    home = PkiHome(site.home)
    log = audit.entries(home)
    source = sqlite_databases.source()
    made = make_backup(
        tmp_path / "backup",
        Database("sqlite", str(source.path)),
        PkiSource(home.root, PASSPHRASE.encode(), read_only=True),
    )
    assert made.manifest.pki is not None and made.manifest.pki.logged is False
    assert json.loads((made.path / "manifest.json").read_text())["pki"]["logged"] is False
    assert audit.entries(home) == log
