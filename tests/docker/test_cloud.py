"""cloud/tactical-edge.yaml: cfn-lint clean (informational checks included), checkov clean (its
waivers reviewed here), and the architecture issue 6 asks for: Fargate over two AZs, RDS Multi-AZ
with a managed secret, mutual TLS at nginx; plus the stopped-task event log and its alarm, and the
optional Route 53 record."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

from supply.serving.launch import gunicorn_argv
from tests.docker.dockerfile import exec_form, parse
from tests.docker.helpers import DOCKER, ROOT, tool

TEMPLATE = ROOT / "cloud" / "tactical-edge.yaml"
# The parameters without a default, for cfn-lint runs that set some parameters.
REQUIRED = ["ServerName=supply.example.mil", "ProxyImage=proxy:0.1.0", "SupplyImage=supply:0.1.0"]


def cfn_lint(path: Path, *parameters: str) -> subprocess.CompletedProcess[str]:
    options = ["--parameters", *REQUIRED, *parameters] if parameters else []
    return subprocess.run(
        [tool("cfn-lint"), "--include-checks", "I", *options, "--", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


# checkov offline: --skip-download skips the platform's guidelines and policy metadata,
# CKV_SKIP_PACKAGE_UPDATE_CHECK its version check against the package index. Neither alone is
# enough (test_checkov_opens_no_network_connection). No API key may leak in from the environment.
CHECKOV_OFFLINE = ["--skip-download"]


def checkov_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_", "CKV_"))}
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    return env


def checkov_argv(directory: Path, framework: str) -> list[str]:
    return [
        tool("checkov"),
        *CHECKOV_OFFLINE,
        "--compact",
        "--output",
        "json",
        "--framework",
        framework,
        "--directory",
        str(directory),
    ]


def checkov(directory: Path, framework: str) -> tuple[int, dict[str, Any]]:
    """checkov's exit status and its JSON report for one framework."""
    result = subprocess.run(
        checkov_argv(directory, framework),
        capture_output=True,
        text=True,
        timeout=300,
        env=checkov_env(),
    )
    assert result.stdout.startswith("{"), result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def findings(report: dict[str, Any], kind: str = "failed_checks") -> set[tuple[str, str]]:
    return {(c["check_id"], c["resource"]) for c in report["results"][kind]}


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


def test_template_is_checkov_clean() -> None:
    returncode, report = checkov(TEMPLATE.parent, "cloudformation")
    assert findings(report) == set()
    assert report["results"]["parsing_errors"] == []
    assert report["summary"]["passed"] > 0
    assert returncode == 0


def test_checkov_waivers_are_the_reviewed_ones() -> None:
    """A waiver is an inline `checkov:skip` with its reason; adding one is a decision made here."""
    _, report = checkov(TEMPLATE.parent, "cloudformation")
    assert findings(report, "skipped_checks") == {
        # NLB access logs cover TLS listeners only; this one is TCP (TLS ends in nginx).
        ("CKV_AWS_91", "AWS::ElasticLoadBalancingV2::LoadBalancer.LoadBalancer"),
    }
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"]["suppress_comment"]) > 40


def test_checkov_rejects_log_groups_without_the_customer_managed_key(tmp_path: Path) -> None:
    """The check cannot pass silently: the same template without the log groups' key fails."""
    text = TEMPLATE.read_text()
    assert text.count("      KmsKeyId: !GetAtt Key.Arn\n") == 2
    (tmp_path / TEMPLATE.name).write_text(text.replace("      KmsKeyId: !GetAtt Key.Arn\n", ""))
    returncode, report = checkov(tmp_path, "cloudformation")
    assert returncode == 1
    assert findings(report) == {
        ("CKV_AWS_158", "AWS::Logs::LogGroup.LogGroup"),
        ("CKV_AWS_158", "AWS::Logs::LogGroup.TaskEventLogGroup"),
    }


def test_dockerfiles_are_checkov_clean() -> None:
    returncode, report = checkov(DOCKER, "dockerfile")
    assert findings(report) == set()
    assert report["summary"]["passed"] > 0
    assert returncode == 0


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_checkov_opens_no_network_connection(tmp_path: Path) -> None:
    """With the offline settings, a fresh checkov (empty cache) connects to no address at all."""
    trace = tmp_path / "connect.trace"
    result = subprocess.run(
        [
            "strace",
            *("-f", "-qq", "-e", "trace=connect", "-o", str(trace)),
            *checkov_argv(TEMPLATE.parent, "cloudformation"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**checkov_env(), "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    calls = [line for line in trace.read_text().splitlines() if "connect(" in line]
    assert calls  # the trace works: checkov's worker processes talk over local sockets
    assert [line for line in calls if re.search(r"AF_INET6?\b", line)] == []


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


_SECONDS = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod"}


def _ecs_health_check(healthcheck: str) -> dict[str, Any]:
    """A Dockerfile `HEALTHCHECK --interval=10s ... CMD [...]` as an ECS container HealthCheck."""
    options, _, command = healthcheck.partition(" CMD ")
    program = exec_form(command)
    assert program is not None, "HEALTHCHECK CMD must be exec form"
    check: dict[str, Any] = {"Command": ["CMD", *program]}
    for option in options.split():
        name, _, value = option.removeprefix("--").partition("=")
        if name == "retries":
            check["Retries"] = int(value)
        else:
            assert value.endswith("s"), option
            check[_SECONDS[name]] = int(value.removesuffix("s"))
    return check


@pytest.mark.parametrize(
    ("container", "image", "dockerfile"),
    [("proxy", "ProxyImage", "proxy.Dockerfile"), ("supply", "SupplyImage", "supply.Dockerfile")],
)
def test_ecs_runs_the_images_own_health_checks(
    resources: dict[str, Any], container: str, image: str, dockerfile: str
) -> None:
    """ECS ignores an image's HEALTHCHECK: the task definition repeats it. Same program (the one
    the compose tests exercise) and same timings as the Dockerfile's."""
    containers = {
        c["Name"]: c for c in resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    }
    assert containers[container]["Image"] == {"Ref": image}
    (healthcheck,) = parse(DOCKER / dockerfile).final.all("HEALTHCHECK")
    assert containers[container]["HealthCheck"] == _ecs_health_check(healthcheck)


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
            "AWS::KMS::Key",
        }
    }
    assert policies == {
        "Database": ("Snapshot", "Snapshot"),
        "DjangoSecretKey": ("Retain", "Retain"),
        "FileSystem": ("Retain", "Retain"),
        "LogGroup": ("Retain", "Retain"),
        "TaskEventLogGroup": ("Retain", "Retain"),
        # Whatever it encrypted stays readable after the stack is gone.
        "Key": ("Retain", "Retain"),
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


def test_backups_keep_the_database_restorable_to_a_point_in_time(
    resources: dict[str, Any],
) -> None:
    template = cfn_yaml.load(str(TEMPLATE))
    db = resources["Database"]["Properties"]
    assert db["BackupRetentionPeriod"] == {"Ref": "DbBackupRetentionDays"}
    retention = template["Parameters"]["DbBackupRetentionDays"]
    # 0 would turn automated backups (and point-in-time restore) off; 35 is RDS's maximum.
    assert (retention["MinValue"], retention["MaxValue"], retention["Default"]) == (1, 35, 14)
    assert resources["FileSystem"]["Properties"]["BackupPolicy"] == {"Status": "ENABLED"}


def test_secrets_and_logs_use_the_stacks_key_and_the_key_admits_only_its_users(
    resources: dict[str, Any],
) -> None:
    key_arn = {"Fn::GetAtt": ["Key", "Arn"]}
    assert resources["DjangoSecretKey"]["Properties"]["KmsKeyId"] == {"Ref": "Key"}
    assert resources["Database"]["Properties"]["MasterUserSecret"] == {"KmsKeyId": {"Ref": "Key"}}
    log_groups = [r for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(log_groups) == 2
    assert all(group["Properties"]["KmsKeyId"] == key_arn for group in log_groups)
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "Key"}
    key = resources["Key"]["Properties"]
    assert key["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    assert all(s["Effect"] == "Allow" for s in statements.values())
    principals = {sid: s["Principal"] for sid, s in statements.items()}
    assert principals == {
        "AccountAdministersTheKey": {
            "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
        },
        "CloudWatchLogsEncryptsThisAccountsLogGroups": {
            "Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}
        },
        "CloudWatchAlarmsPublishToTheEncryptedTopic": {"Service": "cloudwatch.amazonaws.com"},
    }
    # CloudWatch Logs may use the key for this account's log groups only.
    logs = statements["CloudWatchLogsEncryptsThisAccountsLogGroups"]
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
    }
    # The execution role decrypts the secrets through Secrets Manager only.
    (role_policy,) = resources["ExecutionRole"]["Properties"]["Policies"]
    decrypt = [
        s for s in role_policy["PolicyDocument"]["Statement"] if s["Action"] == "kms:Decrypt"
    ]
    assert decrypt == [
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.${AWS::URLSuffix}"}
                }
            },
        }
    ]


def test_database_has_enhanced_monitoring_and_iam_authentication(
    resources: dict[str, Any],
) -> None:
    db = resources["Database"]["Properties"]
    assert db["EnableIAMDatabaseAuthentication"] is True
    assert db["MonitoringInterval"] == 60
    assert db["MonitoringRoleArn"] == {"Fn::GetAtt": ["DatabaseMonitoringRole", "Arn"]}
    role = resources["DatabaseMonitoringRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}


def test_every_security_group_rule_says_what_it_is_for(resources: dict[str, Any]) -> None:
    rules = [
        rule
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroup"
        for kind in ("SecurityGroupIngress", "SecurityGroupEgress")
        for rule in r["Properties"].get(kind, [])
    ] + [
        r["Properties"]
        for r in resources.values()
        if r["Type"] in {"AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"}
    ]
    assert len(rules) == 9
    assert all(len(rule.get("Description", "")) > 10 for rule in rules)


# ---------------------------------------------------------------- stopped tasks: event log, alarm

CLUSTER_ARN = "arn:aws:ecs:eu-north-1:111122223333:cluster/tactical-edge-Cluster-Ab12Cd34"
TARGET_GROUP = (
    "arn:aws:elasticloadbalancing:eu-north-1:111122223333:targetgroup/tactic-Targe-1X2Y3Z/0a1b2c3d"
)


def _stopped_task_event(
    reason: str, stop_code: str, *, cluster: str = CLUSTER_ARN
) -> dict[str, Any]:
    """An ECS Task State Change event as EventBridge delivers it (the documented shape, trimmed
    of attachments), as it lands in the log group: one JSON document per log event."""
    task = cluster.replace(":cluster/", ":task/") + "/5f0c3e1b9a2d4e6f8a7b6c5d4e3f2a1b"
    text = json.dumps(
        {
            "version": "0",
            "id": "3317b2af-7005-947d-b652-f55e762e571a",
            "detail-type": "ECS Task State Change",
            "source": "aws.ecs",
            "account": "111122223333",
            "time": "2026-12-04T09:41:27Z",
            "region": "eu-north-1",
            "resources": [task],
            "detail": {
                "availabilityZone": "eu-north-1a",
                "clusterArn": cluster,
                "containers": [
                    {
                        "containerArn": task.replace(":task/", ":container/") + "/proxy",
                        "lastStatus": "STOPPED",
                        "name": "proxy",
                        "taskArn": task,
                        "healthStatus": "UNHEALTHY",
                        "exitCode": 137,
                    }
                ],
                "cpu": "1024",
                "memory": "2048",
                "desiredStatus": "STOPPED",
                "group": "service:tactical-edge-Service-9Zy8Xw7V",
                "launchType": "FARGATE",
                "lastStatus": "STOPPED",
                "stopCode": stop_code,
                "stoppedReason": reason,
                "stoppedAt": "2026-12-04T09:41:27.118Z",
                "taskArn": task,
                "taskDefinitionArn": task.split(":task/")[0] + ":task-definition/te-edge:7",
                "version": 5,
            },
        }
    )
    event: dict[str, Any] = json.loads(text)  # read back as the log event's JSON text
    return event


HEALTH_CHECK_KILLS = [
    _stopped_task_event(
        f"Task failed ELB health checks in (target-group {TARGET_GROUP})",
        "ServiceSchedulerInitiated",
    ),
    _stopped_task_event("Task failed container health checks", "ServiceSchedulerInitiated"),
]
NOT_HEALTH_CHECK_KILLS = [
    _stopped_task_event("Essential container in task exited", "EssentialContainerExited"),
    _stopped_task_event(
        "Scaling activity initiated by (deployment ecs-svc/123)", "ServiceSchedulerInitiated"
    ),
]


def _event_pattern_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge matching for what this rule uses: lists of exact values, nested by field."""
    for field, expected in pattern.items():
        if isinstance(expected, dict):
            if not isinstance(event.get(field), dict):
                return False
            if not _event_pattern_matches(expected, event[field]):
                return False
        elif event.get(field) not in expected:
            return False
    return True


_TERM = re.compile(r'\(\$\.([\w.]+) = "([^"*]*)(\*?)"\)')


def _metric_filter_matches(pattern: str, event: dict[str, Any]) -> bool:
    """CloudWatch Logs JSON filter patterns, only the form this template uses:
    `{ (SELECTOR = "TEXT") || (SELECTOR = "TEXT*") }`, string equality with an optional trailing
    wildcard. Anything else is refused, not guessed at."""
    body = " ".join(pattern.split())
    assert body.startswith("{ ") and body.endswith(" }"), pattern
    terms = body[2:-2].split(" || ")
    parsed = [_TERM.fullmatch(term) for term in terms]
    assert all(parsed), f"not a form this matcher evaluates: {pattern}"
    for match in parsed:
        assert match is not None
        selector, text, wildcard = match.groups()
        value: Any = event
        for key in selector.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and (value.startswith(text) if wildcard else value == text):
            return True
    return False


def test_stopped_tasks_of_this_cluster_go_to_the_task_event_log(resources: dict[str, Any]) -> None:
    """The rule's pattern, evaluated with the cluster's ARN for its `!GetAtt`, takes stopped tasks
    of this cluster only; its target is the log group whose resource policy lets EventBridge
    write. (What the template says; that AWS delivers is not tested here.)"""
    rule = resources["TaskStoppedRule"]
    assert rule["DependsOn"] == "TaskEventLogPolicy"
    pattern = rule["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"clusterArn": [{"Fn::GetAtt": ["Cluster", "Arn"]}], "lastStatus": ["STOPPED"]},
    }
    resolved = {**pattern, "detail": {**pattern["detail"], "clusterArn": [CLUSTER_ARN]}}
    for event in HEALTH_CHECK_KILLS + NOT_HEALTH_CHECK_KILLS:
        assert _event_pattern_matches(resolved, event)
    running = _stopped_task_event("", "")
    running["detail"]["lastStatus"] = "RUNNING"
    other_cluster = _stopped_task_event(
        "Task failed container health checks", "", cluster=CLUSTER_ARN.replace("Ab12", "Zz99")
    )
    assert not _event_pattern_matches(resolved, running)
    assert not _event_pattern_matches(resolved, other_cluster)

    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["TaskEventLogGroup", "Arn"]}
    log_group = resources["TaskEventLogGroup"]["Properties"]
    assert log_group["LogGroupName"]["Fn::Sub"].startswith("/aws/events/")
    # The policy is a JSON string with the log group's ARN substituted in.
    arn = "arn:aws:logs:eu-north-1:111122223333:log-group:events:*"
    policy_text = resources["TaskEventLogPolicy"]["Properties"]["PolicyDocument"]["Fn::Sub"]
    policy = json.loads(policy_text.replace("${TaskEventLogGroup.Arn}", arn))
    (statement,) = policy["Statement"]
    assert statement["Principal"]["Service"] == [
        "events.amazonaws.com",
        "delivery.logs.amazonaws.com",
    ]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == arn


def test_health_check_kills_are_counted_and_nothing_else(resources: dict[str, Any]) -> None:
    """The metric filter's pattern, evaluated by the small matcher above against sample events:
    the ELB and the container health-check reasons count, a crashed essential container and a
    scale-in do not. The reasons are those ECS documents; a change of wording on AWS's side
    would not be caught here."""
    metric_filter = resources["HealthCheckKillFilter"]["Properties"]
    assert metric_filter["LogGroupName"] == {"Ref": "TaskEventLogGroup"}
    pattern = metric_filter["FilterPattern"]
    assert [_metric_filter_matches(pattern, e) for e in HEALTH_CHECK_KILLS] == [True, True]
    assert [_metric_filter_matches(pattern, e) for e in NOT_HEALTH_CHECK_KILLS] == [False, False]
    (transformation,) = metric_filter["MetricTransformations"]
    assert transformation["MetricValue"] == "1"

    alarm = resources["HealthCheckKillAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        transformation["MetricNamespace"],
        transformation["MetricName"],
    )
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 900, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        3,
    )
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


# ---------------------------------------------------------------- Route 53 (optional)


def _condition_holds(condition: dict[str, Any], parameters: dict[str, str]) -> bool:
    """CloudFormation's condition functions this template uses: Fn::Not, and Fn::Equals of a
    parameter's Ref and a string. Anything else is refused."""
    ((function, arguments),) = condition.items()
    if function == "Fn::Not":
        return not _condition_holds(arguments[0], parameters)
    if function == "Fn::Equals":
        values = [parameters[a["Ref"]] if isinstance(a, dict) else a for a in arguments]
        assert all(isinstance(v, str) for v in values), arguments
        return bool(values[0] == values[1])
    raise AssertionError(f"{function} is not evaluated here")


@pytest.mark.parametrize(
    ("hosted_zone", "records"), [("", set()), ("Z0123456789ABCDEFGHIJ", {"ServiceRecord"})]
)
def test_route_53_record_exists_only_with_a_hosted_zone(
    hosted_zone: str, records: set[str]
) -> None:
    template = cfn_yaml.load(str(TEMPLATE))
    assert template["Parameters"]["HostedZoneId"]["Default"] == ""
    parameters = {"HostedZoneId": hosted_zone}
    created = {
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Route53::RecordSet"
        and _condition_holds(template["Conditions"][resource["Condition"]], parameters)
    }
    assert created == records
    result = cfn_lint(TEMPLATE, f"HostedZoneId={hosted_zone}")
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_route_53_alias_names_the_service_and_follows_the_load_balancer(
    resources: dict[str, Any],
) -> None:
    (record,) = [r for r in resources.values() if r["Type"] == "AWS::Route53::RecordSet"]
    assert record["Condition"] == "HasHostedZone"
    properties = record["Properties"]
    assert properties["Name"] == {"Ref": "ServerName"}
    assert properties["HostedZoneId"] == {"Ref": "HostedZoneId"}
    assert properties["AliasTarget"] == {
        "DNSName": {"Fn::GetAtt": ["LoadBalancer", "DNSName"]},
        "HostedZoneId": {"Fn::GetAtt": ["LoadBalancer", "CanonicalHostedZoneID"]},
        "EvaluateTargetHealth": True,
    }
    # IPv4-only load balancer: an A record and no AAAA (that would need IpAddressType dualstack).
    assert resources["LoadBalancer"]["Properties"].get("IpAddressType", "ipv4") == "ipv4"
    assert properties["Type"] == "A"
