"""Shared pytest hooks: tests marked `postgres` skip, with a reason, when the database is not
PostgreSQL (the SQLite pass of `make test` deselects them anyway); under CI a skip is a failure,
because .ci/run installs and starts everything the tests need."""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

# Fails the run if it leaves a process running (see tests/harness/leftovers.py).
pytest_plugins = ("tests.harness.leftovers",)


def _database_is_postgres() -> bool:
    try:
        from django.conf import settings

        return "postgresql" in settings.DATABASES["default"]["ENGINE"]
    except Exception:  # Django not configured: no database at all
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _database_is_postgres():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL row locks: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/supply"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """On PostgreSQL, give this process's test database a unique name, so two test runs on one
    server (two checkouts, or a developer and CI) never drop each other's database."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        return
    test = database.setdefault("TEST", {})
    base = test.get("NAME") or f"test_{database['NAME']}"
    test["NAME"] = f"{base}_{os.getpid()}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where nothing may be missing: {report.longrepr}"
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what tests measured (`record_property("figure", ...)`: stop times, image sizes):
    figures to read, never asserted (speed is judged in `make bench`). Under xdist the reports
    carry their properties to the controller, so this works with -n too."""
    figures = [
        f"{report.nodeid.split('::')[-1]}: {value}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if isinstance(report, pytest.TestReport) and report.when == "call"
        for name, value in report.user_properties
        if name == "figure"
    ]
    if figures:
        terminalreporter.section("figures")
        for line in figures:
            terminalreporter.write_line(line)
