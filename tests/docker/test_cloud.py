"""cloud/tactical-edge.yaml: cfn-lint clean (informational checks included) and the architecture
issue 6 asks for: Fargate over two AZs, RDS Multi-AZ with a managed secret, mutual TLS at nginx."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

from tests.docker.helpers import ROOT, tool

TEMPLATE = ROOT / "cloud" / "tactical-edge.yaml"


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("cfn-lint"), "--include-checks", "I", "--", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    template = cfn_yaml.load(str(TEMPLATE))
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    return dict(template["Resources"])


def test_template_is_cfn_lint_clean() -> None:
    result = cfn_lint(TEMPLATE)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_cfn_lint_rejects_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("MultiAZ: true", "MultiAZ: sometimes"))
    result = cfn_lint(broken)
    assert result.returncode != 0
    assert "sometimes" in result.stdout


def test_tasks_and_database_span_two_availability_zones(resources: dict[str, Any]) -> None:
    subnets = resources["Service"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"][
        "Subnets"
    ]
    azs = {
        resources[ref["Ref"]]["Properties"]["AvailabilityZone"]["Fn::Select"][0] for ref in subnets
    }
    assert azs == {0, 1}
    assert resources["Service"]["Properties"]["LaunchType"] == "FARGATE"
    db = resources["Database"]["Properties"]
    assert db["MultiAZ"] is True
    assert db["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in db
    assert db["PubliclyAccessible"] is False


def test_mutual_tls_terminates_in_nginx_behind_a_tcp_load_balancer(
    resources: dict[str, Any],
) -> None:
    assert resources["LoadBalancer"]["Properties"]["Type"] == "network"
    assert resources["Listener"]["Properties"]["Protocol"] == "TCP"
    target = resources["TargetGroup"]["Properties"]
    assert (target["Protocol"], target["Port"]) == ("TCP", 8443)
    (mapping,) = resources["Service"]["Properties"]["LoadBalancers"]
    assert (mapping["ContainerName"], mapping["ContainerPort"]) == ("proxy", 8443)


def test_database_password_reaches_the_service_only_as_a_secret(resources: dict[str, Any]) -> None:
    containers = {
        c["Name"]: c for c in resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    }
    assert set(containers) == {"proxy", "supply"}
    supply = containers["supply"]
    secrets = {s["Name"] for s in supply["Secrets"]}
    assert secrets == {"PGPASSWORD", "SUPPLY_SECRET_KEY"}
    env_names = {e["Name"] for e in supply["Environment"]}
    assert not env_names & secrets
    # gunicorn listens on the task's loopback only: nothing but nginx reaches it.
    env = {e["Name"]: e["Value"] for e in supply["Environment"]}
    assert env["SUPPLY_BIND"] == "127.0.0.1:8000"
    proxy_env = {e["Name"]: e["Value"] for e in containers["proxy"]["Environment"]}
    assert proxy_env["PROXY_UPSTREAM"] == "127.0.0.1:8000"
    # The images' own health checks, by the names the Dockerfiles install them under.
    assert supply["HealthCheck"]["Command"] == ["CMD", "supply-healthcheck"]
    assert containers["proxy"]["HealthCheck"]["Command"] == ["CMD", "edge-healthcheck", "proxy"]


def test_migrations_run_in_their_own_task_definition(resources: dict[str, Any]) -> None:
    (container,) = resources["MigrateTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert container["Command"] == ["migrate"]
