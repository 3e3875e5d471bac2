"""cloud/tactical-edge.yaml: cfn-lint clean (informational checks included) and the architecture
issue 6 asks for: Fargate over two AZs, RDS Multi-AZ with a managed secret, mutual TLS at nginx."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

from supply.serving.launch import gunicorn_argv
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


def _walk(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_template_is_region_independent() -> None:
    """No per-region table to fill in (the S3 prefix list differs in every region): the template
    lints for regions of every kind and looks nothing up by region."""
    template = cfn_yaml.load(str(TEMPLATE))
    assert "Mappings" not in template
    assert not [n for n in _walk(template) if isinstance(n, dict) and "Fn::FindInMap" in n]
    regions = ["us-east-1", "eu-north-1", "ap-southeast-2", "sa-east-1", "us-gov-west-1"]
    result = subprocess.run(
        [tool("cfn-lint"), "--include-checks", "I", "--regions", *regions, "--", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_private_subnets_reach_only_the_vpc_and_ecr_layers(resources: dict[str, Any]) -> None:
    """The tasks' 443 egress is open by address; routing is what keeps them inside AWS."""
    kinds = {r["Type"] for r in resources.values()}
    assert "AWS::EC2::NatGateway" not in kinds
    routes = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::EC2::Route"]
    assert routes
    assert all(route["RouteTableId"] == {"Ref": "PublicRouteTable"} for route in routes)
    private = {
        r["Properties"]["SubnetId"]["Ref"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
        and r["Properties"]["RouteTableId"] == {"Ref": "PrivateRouteTable"}
    }
    assert private == {"PrivateSubnetA", "PrivateSubnetB"}
    s3 = resources["S3Endpoint"]["Properties"]
    assert s3["RouteTableIds"] == [{"Ref": "PrivateRouteTable"}]
    (statement,) = s3["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::prod-${AWS::Region}-starport-layer-bucket/*"
    }


def test_nginx_sees_the_client_address_and_only_the_nlb_reaches_it(
    resources: dict[str, Any],
) -> None:
    attributes = {
        a["Key"]: a["Value"]
        for a in resources["TargetGroup"]["Properties"]["TargetGroupAttributes"]
    }
    assert attributes["preserve_client_ip.enabled"] == "true"
    (ingress,) = resources["TaskSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert ingress["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}
    assert (ingress["FromPort"], ingress["ToPort"]) == (8443, 8443)
    (client,) = resources["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert client["CidrIp"] == {"Ref": "AllowedClientCidr"}


def test_state_survives_stack_deletion_and_replacement(resources: dict[str, Any]) -> None:
    policies = {
        name: (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
        for name, resource in resources.items()
        if resource["Type"]
        in {
            "AWS::RDS::DBInstance",
            "AWS::SecretsManager::Secret",
            "AWS::EFS::FileSystem",
            "AWS::Logs::LogGroup",
        }
    }
    assert policies == {
        "Database": ("Snapshot", "Snapshot"),
        "DjangoSecretKey": ("Retain", "Retain"),
        "FileSystem": ("Retain", "Retain"),
        "LogGroup": ("Retain", "Retain"),
    }
    assert resources["Database"]["Properties"]["DeletionProtection"] is True
    assert resources["Database"]["Properties"]["StorageEncrypted"] is True


@pytest.mark.parametrize(
    ("definition", "container"),
    [("TaskDefinition", "supply"), ("MigrateTaskDefinition", "migrate")],
)
def test_every_database_client_gets_the_managed_password_as_a_secret(
    resources: dict[str, Any], definition: str, container: str
) -> None:
    containers = {c["Name"]: c for c in resources[definition]["Properties"]["ContainerDefinitions"]}
    secrets = {s["Name"]: s["ValueFrom"] for s in containers[container]["Secrets"]}
    assert secrets["PGPASSWORD"] == {"Fn::Sub": "${Database.MasterUserSecret.SecretArn}:password::"}
    assert secrets["SUPPLY_SECRET_KEY"] == {"Ref": "DjangoSecretKey"}
    env = {e["Name"]: e["Value"] for e in containers[container]["Environment"]}
    # The URL names the user only; libpq takes the password from PGPASSWORD.
    url = env["DATABASE_URL"]["Fn::Sub"]
    assert url.startswith("postgres://supply@")
    assert url.endswith("/supply?sslmode=require")


def test_supply_task_gets_longer_to_stop_than_gunicorns_graceful_timeout(
    resources: dict[str, Any],
) -> None:
    containers = {
        c["Name"]: c for c in resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    }
    argv = gunicorn_argv("127.0.0.1:8000", workers=1)
    assert containers["supply"]["StopTimeout"] > int(argv[argv.index("--graceful-timeout") + 1])
