"""docker/compose.yaml: valid under the Compose Specification schema (vendored by
check-jsonschema, nothing fetched) and wired as issue 6 asks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from supply.serving.launch import gunicorn_argv
from tests.docker.helpers import DOCKER, tool

COMPOSE = DOCKER / "compose.yaml"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def test_compose_file_is_valid_under_the_compose_specification() -> None:
    result = validate(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok -- validation done"


def test_schema_check_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("service_healthy", "service_ready", 1))
    result = validate(broken)
    assert result.returncode == 1
    assert "service_ready" in result.stdout


def test_only_the_proxy_publishes_a_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "migrate", "supply", "proxy"}
    assert [name for name, svc in services.items() if "ports" in svc] == ["proxy"]
    assert services["proxy"]["ports"] == [
        "${TE_LISTEN_ADDRESS:-0.0.0.0}:${TE_HTTPS_PORT:-443}:8443"
    ]


def test_database_health_check_waits_for_the_real_server(compose: dict[str, Any]) -> None:
    test = compose["services"]["db"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert test[1] == "pg_isready"
    assert test[test.index("-h") + 1] == "127.0.0.1"


def test_start_order_waits_for_database_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["healthcheck"] == {"disable": True}
    assert services["supply"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    # The proxy must come up even when the service cannot, to answer 503 with a page.
    assert services["proxy"]["depends_on"] == {"supply": {"condition": "service_started"}}


def test_secrets_come_from_files_not_from_the_environment(compose: dict[str, Any]) -> None:
    assert all(set(s) == {"file"} for s in compose["secrets"].values())
    services = compose["services"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db-password"
    for name in ("migrate", "supply"):
        env = services[name]["environment"]
        assert env["SUPPLY_DB_PASSWORD_FILE"] == "/run/secrets/db-password"
        assert env["SUPPLY_SECRET_KEY_FILE"] == "/run/secrets/django-secret-key"
        assert "@" in env["DATABASE_URL"]
        assert ":" not in env["DATABASE_URL"].split("//", 1)[1].split("@", 1)[0]
    for svc in services.values():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET", key):
                assert key.endswith("_FILE"), key
                assert str(value).startswith("/run/secrets/"), key


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) == {"pgdata", "supply-data", "supply-socket"}
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]
    for name in ("supply", "proxy"):
        assert "supply-socket:/run/supply" in compose["services"][name]["volumes"]
        assert "${TE_PKI_HOME}:/pki:ro" in compose["services"][name]["volumes"]


def test_app_containers_are_unprivileged_and_read_only(compose: dict[str, Any]) -> None:
    for name in ("migrate", "supply", "proxy"):
        svc = compose["services"][name]
        assert svc["user"] == "${TE_UID:-10001}:${TE_GID:-10001}"
        assert svc["read_only"] is True
        assert svc["cap_drop"] == ["ALL"]


def test_service_and_proxy_meet_on_the_shared_socket(compose: dict[str, Any]) -> None:
    services = compose["services"]
    socket = "unix:/run/supply/gunicorn.sock"
    assert services["supply"]["environment"]["SUPPLY_BIND"] == socket
    assert services["proxy"]["environment"]["PROXY_UPSTREAM"] == socket
    assert compose["networks"]["backend"] == {"internal": True}
    assert services["proxy"]["networks"] == ["edge"]


def _graceful_timeout() -> int:
    argv = gunicorn_argv("127.0.0.1:8000", workers=1)
    return int(argv[argv.index("--graceful-timeout") + 1])


def test_supply_gets_longer_to_stop_than_gunicorns_graceful_timeout(
    compose: dict[str, Any],
) -> None:
    grace = compose["services"]["supply"]["stop_grace_period"]
    assert re.fullmatch(r"\d+s", grace)
    assert int(grace[:-1]) > _graceful_timeout()
