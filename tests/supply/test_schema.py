"""The OpenAPI schema says what the service does: its errors with their bodies, the limits it
enforces and how a client logs in. Real answers of the API are validated against it."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from supply.inventory.services import MAX_QUANTITY

pytestmark = pytest.mark.django_db

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def schema(client_for: Any) -> dict[str, Any]:
    response = client_for("viewer").get("/supply/api/schema/", {"format": "json"})
    assert response.status_code == 200
    parsed: dict[str, Any] = response.json()
    return parsed


def validator(schema: dict[str, Any], subschema: dict[str, Any]) -> Draft202012Validator:
    """A validator for `subschema` whose "#/components/..." references resolve in the document
    (OpenAPI 3.1 schemas are JSON Schema 2020-12, where $ref may sit beside other keywords)."""
    return Draft202012Validator({**subschema, "components": schema["components"]})


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in OPERATIONS
    ]


def response_schema(operation: dict[str, Any], status: str) -> dict[str, Any]:
    found: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
    return found


def test_certificate_login_is_mutual_tls(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.1.")
    schemes = schema["components"]["securitySchemes"]
    assert [s["type"] for s in schemes.values()] == ["mutualTLS"]
    name = next(iter(schemes))
    for path, method, operation in operations(schema):
        assert {name: []} in operation["security"], f"{method} {path}"


def test_every_operation_documents_its_errors(schema: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert response_schema(operation, "403") == error, where
        assert response_schema(operation, "503") == error, where
        if "{" in path:
            assert response_schema(operation, "404") == error, where
        if method != "get":
            assert response_schema(operation, "409") == error, where
            assert "400" in responses, where
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        if [p["name"] for p in headers] == ["Idempotency-Key"]:
            assert response_schema(operation, "422") == error, where
            key = headers[0]["schema"]
            assert (key["minLength"], key["maxLength"]) == (1, 255), where


def test_limits_are_in_the_schema(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("ReceiptRequest", "StowRequest", "IssueRequest"):
        quantity = components[name]["properties"]["quantity"]
        assert (quantity["minimum"], quantity["maximum"]) == (1, MAX_QUANTITY), name
    counted = components["AdjustmentRequest"]["properties"]["counted"]
    assert (counted["minimum"], counted["maximum"]) == (0, MAX_QUANTITY)
    requests = [name for name in components if name.endswith("Request")]
    assert len(requests) >= 8
    for name in requests:
        assert components[name]["additionalProperties"] is False, name
    common_name = validator(schema, components["ItemRequest"]["properties"]["common_name"])
    assert common_name.is_valid("Wrench, socket")
    assert not common_name.is_valid("   ")
    assert not common_name.is_valid("")
    stock_list = schema["paths"]["/supply/api/stock/"]["get"]
    page_size = next(p for p in stock_list["parameters"] if p["name"] == "page_size")["schema"]
    assert (page_size["minimum"], page_size["maximum"]) == (1, 100)


def test_an_empty_aac_matches_its_own_schema(schema: dict[str, Any]) -> None:
    """Its oneOf had two branches that both matched "" (a pattern that allowed blank, and blank)."""
    item = validator(schema, {"$ref": "#/components/schemas/Item"})
    body = {
        "nsn": "6505013324567",
        "fsc": "6505",
        "common_name": "Aspirin",
        "description": "",
        "price": "1.00",
        "unit_of_issue": "EA",
        "rep_office": "",
    }
    for aac in ("", "A"):
        assert list(item.iter_errors({**body, "aac": aac})) == [], aac
    assert not item.is_valid({**body, "aac": "a"})


def test_real_error_answers_match_the_schema(
    schema: dict[str, Any], client_for: Any, site: Any
) -> None:
    issue = schema["paths"]["/supply/api/issues/"]["post"]
    clerk = client_for("issuer")
    body = {
        "unit": "W1AAAA",
        "nsn": "6505013324567",
        "location": "RECV",
        "customer_unit": "W2BBBB",
        "quantity": 5,
        "document_number": "DOC-1",
    }
    too_many = clerk.post("/supply/api/issues/", body, content_type="application/json")
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "insufficient_stock"
    validator(schema, response_schema(issue, "409")).validate(too_many.json())
    unknown = clerk.post("/supply/api/issues/", {**body, "qty": 1}, content_type="application/json")
    assert unknown.status_code == 400
    assert unknown.json() == {"qty": ["Unknown or read-only field."]}
    validator(schema, response_schema(issue, "400")).validate(unknown.json())
    stock = schema["paths"]["/supply/api/stock/"]["get"]
    page = clerk.get("/supply/api/stock/", {"page_size": 101})
    assert page.status_code == 400
    validator(schema, response_schema(stock, "400")).validate(page.json())
    viewer = client_for("viewer").post("/supply/api/issues/", body, content_type="application/json")
    assert viewer.status_code == 403
    validator(schema, response_schema(issue, "403")).validate(viewer.json())
