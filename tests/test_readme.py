"""What the README tells a newcomer to type works as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKI = str(Path(sys.executable).with_name("pki"))


def test_the_batch_csv_columns_the_readme_names_are_the_ones_pki_reads(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"pki issue-user --from \S+ .*# columns: ([a-z_,]+)", readme)
    assert found, "README: the batch example with its columns is gone"
    columns = found.group(1).split(",")
    env = {
        **os.environ,
        "PKI_HOME": str(tmp_path / "home"),
        "PKI_CA_PASSPHRASE": "readme-test-ca-passphrase",
        "PKI_P12_PASSWORD": "readme-test-p12-password",
    }
    values = {"full_name": "Doe, Jane", "name": "Doe, Jane", "email": "jane@example.org"}
    row = ",".join(f'"{values.get(column, "S4")}"' for column in columns)
    (tmp_path / "users.csv").write_text(",".join(columns) + "\n" + row + "\n", encoding="utf-8")
    for args in (
        ["init-ca", "--name", "README Root CA"],
        ["issue-user", "--from", str(tmp_path / "users.csv"), "--out-dir", str(tmp_path / "out")],
    ):
        done = subprocess.run(
            [PKI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
    listed = subprocess.run(
        [PKI, "list", "--json"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert "jane@example.org" in listed.stdout
