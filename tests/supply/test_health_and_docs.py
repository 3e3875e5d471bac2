"""Health probes, the OpenAPI schema, the offline API docs page and the read-only ledger admin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from supply.idempotency.models import IdempotencyRecord
from supply.inventory.models import LedgerEntry


@pytest.mark.django_db
def test_healthz_and_readyz_without_credentials():
    client = Client()
    assert (client.get("/supply/healthz").status_code, client.get("/supply/healthz").json()) == (
        200,
        {"status": "ok"},
    )
    assert (client.get("/supply/readyz").status_code, client.get("/supply/readyz").json()) == (
        200,
        {"status": "ready"},
    )
    assert client.head("/supply/healthz").status_code == 200  # probes often use HEAD
    assert client.post("/supply/healthz").status_code == 405


PROBE = """
import django, json
django.setup()
from django.conf import settings
from django.test import Client
r = Client().get("/supply/readyz", HTTP_HOST="localhost")
body = r.json()
print(r.status_code, body["status"], len(body.get("pending", [])) > 0)
"""


def test_readyz_is_503_until_migrations_are_applied(tmp_path: Path):
    env = {
        **os.environ,
        "SUPPLY_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "supply.settings",
    }

    def probe() -> str:
        done = subprocess.run(
            [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert probe() == "503 migrations pending True"
    unreachable = {**env, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=unreachable, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "503 database unreachable False", done.stderr
    supply = Path(sys.executable).with_name("supply")
    subprocess.run([str(supply), "migrate", "-v0"], env=env, check=True, timeout=120)
    assert probe() == "200 ready False"


def test_schema_is_valid_and_generates_without_warnings(tmp_path):
    """Every view's serializer and the certificate security scheme are described: drf-spectacular
    validates the schema against the OpenAPI specification and fails on any warning."""
    supply = Path(sys.executable).with_name("supply")
    env = {**os.environ, "SUPPLY_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(supply), "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "clientCertificate:" in (tmp_path / "s").read_text()


@pytest.mark.django_db
def test_schema_lists_the_operations(client_for):
    response = client_for("viewer").get("/supply/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    receipt = paths["/supply/api/receipts/"]["post"]
    assert [p["name"] for p in receipt["parameters"]] == ["Idempotency-Key"]
    assert receipt["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LedgerEntry"
    }
    for path in [
        "/supply/api/receipts/",
        "/supply/api/stows/",
        "/supply/api/issues/",
        "/supply/api/adjustments/",
        "/supply/api/items/",
        "/supply/api/transactions/",
    ]:
        assert path in paths


@pytest.mark.django_db
def test_docs_page_loads_only_local_assets(client_for):
    response = client_for("viewer").get("/supply/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert urls, "no asset URLs found"
    assert any("swagger-ui" in url for url in urls)
    for url in urls:
        assert url.startswith("/supply/"), url
    assert "http://" not in html and "https://" not in html.replace("https://swagger.io", "")
    # Every asset is a file shipped with the installed packages (collectstatic serves it to nginx).
    from django.contrib.staticfiles import finders

    static = [url.split("?")[0] for url in urls if url.startswith(settings.STATIC_URL)]
    assert any(url.endswith("swagger-ui-bundle.js") for url in static), static
    for url in static:
        found = finders.find(url[len(settings.STATIC_URL) :])
        assert found and Path(str(found)).stat().st_size > 0, url


def rendered_status(response: Any) -> int:
    """Render a TemplateResponse (as the handler would) and return its status."""
    return int(response.render().status_code)


@pytest.mark.django_db
def test_ledger_admin_is_read_only(site, make_user, rf):
    # The admin's login is by certificate (identity middleware), so drive the ModelAdmins directly.
    from django.contrib import admin

    entry = site.receive(4)
    request = rf.get("/supply/admin/")
    request.user = make_user(superuser=True)
    ledger = admin.site._registry[LedgerEntry]
    assert rendered_status(ledger.changelist_view(request)) == 200
    assert ledger.has_view_permission(request, entry)
    assert not ledger.has_add_permission(request)
    assert not ledger.has_change_permission(request, entry)
    assert not ledger.has_delete_permission(request, entry)
    registered = {m._meta.label for m in admin.site._registry}
    assert {
        "catalog.Item",
        "catalog.Unit",
        "catalog.Location",
        "catalog.Allowance",
        "catalog.UnitOfIssue",
        "inventory.Stock",
        "inventory.LedgerEntry",
        "idempotency.IdempotencyRecord",
    } <= registered
    records = admin.site._registry[IdempotencyRecord]
    assert not records.has_change_permission(request) and not records.has_add_permission(request)
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"catalog", "inventory", "idempotency"}:
            assert rendered_status(model_admin.changelist_view(request)) == 200, model


@pytest.mark.django_db
def test_browsable_api_renders_for_a_browser(site, client_for):
    response = client_for("viewer").get("/supply/api/items/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "6505013324567" in html and "Item List" in html
