"""Every error under /supply/api/ is JSON: Django's own 404 and 500 too (they were HTML pages)."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from supply.inventory import views


@pytest.fixture
def viewer(client_for) -> APIClient:
    client: APIClient = client_for("viewer")
    client.raise_request_exception = False
    return client


def test_an_unknown_api_path_is_a_json_404(viewer: APIClient) -> None:
    response = viewer.get("/supply/api/nowhere/")
    assert (response.status_code, response["Content-Type"], response.json()) == (
        404,
        "application/json",
        {"detail": "/supply/api/nowhere/: No such API endpoint or object.", "code": "not_found"},
    )


def test_a_failing_api_view_is_a_json_500(viewer: APIClient, monkeypatch, caplog) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug the tests planted")

    monkeypatch.setattr(views.StockViewSet, "list", broken)
    response = viewer.get("/supply/api/stock/")
    assert (response.status_code, response["Content-Type"], response.json()) == (
        500,
        "application/json",
        {
            "detail": "server: The service failed on this request and logged why; try again, "
            "and tell your site administrator if it repeats.",
            "code": "server_error",
        },
    )
    assert "a bug the tests planted" not in response.content.decode()
    assert any("a bug the tests planted" in str(r.exc_info) for r in caplog.records if r.exc_info)


def test_pages_outside_the_api_keep_django_pages(db) -> None:
    response = Client().get("/nowhere/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
