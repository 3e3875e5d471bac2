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


def test_the_readmes_nginx_config_command_fits_a_system_nginx(tmp_path: Path) -> None:
    """The README's `pki nginx-config ... --out /etc/nginx/conf.d/edge.conf`, run as written
    against a copy of this machine's packaged /etc/nginx, passes `nginx -t` there."""
    import shlex
    import shutil

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^(pki nginx-config .*--out /etc/nginx/conf\.d/\S+)", readme, re.M)
    assert found, "README: the nginx-config example for /etc/nginx/conf.d is gone"
    system = Path("/etc/nginx")
    assert (system / "nginx.conf").is_file(), "needs Debian's nginx package (CI installs it)"
    etc = tmp_path / "etc-nginx"
    shutil.copytree(system, etc, symlinks=True)
    main = (etc / "nginx.conf").read_text()
    main = main.replace("/etc/nginx", str(etc)).replace("/run/nginx.pid", str(tmp_path / "pid"))
    (etc / "nginx.conf").write_text(main)
    argv = shlex.split(found.group(1).replace("/etc/nginx", str(etc)))
    server = argv[argv.index("--server") + 1]
    env = {
        **os.environ,
        "PKI_HOME": str(tmp_path / "home"),
        "PKI_CA_PASSPHRASE": "readme-test-ca-passphrase",
    }
    for args in (["init-ca", "--name", "README Root CA"], ["issue-server", server], argv[1:]):
        done = subprocess.run(
            [PKI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, (args, done.stderr)
    checked = subprocess.run(
        ["nginx", "-t", "-c", str(etc / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
