"""What the OpenAPI schema says beyond what drf-spectacular derives from the views: the error
answers every client meets (from the service and from the nginx edge in front of it) and the limits
the service enforces. A postprocessing hook (SPECTACULAR_SETTINGS) so that it holds for every
operation, including ones added later."""

from __future__ import annotations

from typing import Any

from supply.api.pagination import CappedPageNumberPagination
from supply.idempotency import keys as idempotency

ERROR = "Error"
VALIDATION_ERRORS = "ValidationErrors"

_COMPONENTS: dict[str, dict[str, Any]] = {
    ERROR: {
        "type": "object",
        "description": (
            "A refusal: `detail` is a sentence for a person, `code` a stable name for a program "
            "(absent only on the framework's own 404/405 answers)."
        ),
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string", "examples": ["insufficient_stock"]},
        },
        "required": ["detail"],
    },
    VALIDATION_ERRORS: {
        "type": "object",
        "description": (
            "Field name -> the sentences that say what is wrong with it (an unknown field is "
            "named too); errors of the request as a whole are under `non_field_errors`."
        ),
        "additionalProperties": {
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
        },
        "examples": [{"quantity": ["Must be a whole number."]}],
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_BAD_REQUEST = _json(
    {"anyOf": [_ref(VALIDATION_ERRORS), _ref(ERROR)]},
    "The request is invalid: a field or filter value (per field), or an operation the domain "
    "refuses as asked (`detail` and `code`, e.g. `invalid_operation`).",
)
_FORBIDDEN = _json(
    _ref(ERROR),
    "No usable certificate (`certificate_required`, `certificate_rejected`, answered by the "
    "edge), a certificate not mapped to a user, or a role that may not do this.",
)
_NOT_FOUND = _json(_ref(ERROR), "No such record.")
_CONFLICT = _json(
    _ref(ERROR),
    "The request conflicts with the current state: `insufficient_stock`, `history_frozen` "
    "(a change that would rewrite how past ledger rows read), `still_referenced` (a delete).",
)
_IDEMPOTENCY_REUSED = _json(
    _ref(ERROR),
    "`idempotency_key_reused`: this Idempotency-Key was used with another request body.",
)
_UNAVAILABLE = _json(
    _ref(ERROR),
    "`service_unavailable`: the edge is up but the service is starting or stopped; retry.",
)

_WRITES = {"post", "put", "patch", "delete"}


def _has_input(operation: dict[str, Any]) -> bool:
    return bool(operation.get("parameters")) or "requestBody" in operation


def _limit_parameters(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.setdefault("schema", {})
        if parameter["in"] == "header" and parameter["name"] == idempotency.HEADER:
            # idempotency.check_key: 1 to 255 visible ASCII characters.
            schema.update(pattern="^[!-~]{1,255}$", minLength=1, maxLength=255)
        elif parameter["in"] == "query" and parameter["name"] == "page":
            schema["minimum"] = 1
        elif parameter["in"] == "query" and parameter["name"] == "page_size":
            schema.update(minimum=1, maximum=CappedPageNumberPagination.max_page_size)
            parameter["description"] = (
                f"Results per page: 1 to {CappedPageNumberPagination.max_page_size} "
                f"(default {CappedPageNumberPagination.page_size}); more is a 400, not a "
                "silently shorter page."
            )


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    answers = {"403": _FORBIDDEN, "503": _UNAVAILABLE}
    if _has_input(operation):
        answers["400"] = _BAD_REQUEST
    names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    if "{" in path:
        answers["404"] = _NOT_FOUND
    elif "page" in names:
        answers["404"] = _json(_ref(ERROR), "`Invalid page.`: a page beyond the last one.")
    if method in _WRITES:
        answers["409"] = _CONFLICT
    headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
    if idempotency.HEADER in headers:
        answers["422"] = _IDEMPOTENCY_REUSED
    for status, answer in answers.items():
        responses.setdefault(status, answer)


# Text may hold anything but NUL (PostgreSQL cannot store it; the service refuses it everywhere);
# text that may not be blank is trimmed first, so it needs a character that is not white space.
_NO_NUL = "^[^\\x00]*$"
_NOT_BLANK = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"


def _is_plain_text(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and not {"format", "enum", "pattern"} & set(schema)


def _limit_request_bodies(schemas: dict[str, Any]) -> None:
    """Request bodies: StrictFieldsMixin refuses every key that is not a writable field."""
    for name, schema in schemas.items():
        if not (name.endswith("Request") and schema.get("type") == "object"):
            continue
        schema["additionalProperties"] = False
        for field in schema.get("properties", {}).values():
            if _is_plain_text(field):
                field["pattern"] = _NOT_BLANK if field.get("minLength", 0) >= 1 else _NO_NUL


# Paging is limited by _limit_parameters; DRF's ordering ignores what it does not know, NUL
# included, so any text is accepted there.
_NOT_FILTERS = frozenset({"page", "page_size", "format", "ordering"})


def _limit_filters(operation: dict[str, Any]) -> None:
    """django-filter reads an empty value as "not given", so "" is a valid value of every filter;
    a text filter refuses NUL."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query" or parameter["name"] in _NOT_FILTERS:
            continue
        schema = parameter["schema"]
        if _is_plain_text(schema):
            schema["pattern"] = _NO_NUL
        else:
            parameter["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


def postprocess(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] (after drf-spectacular's enum hook)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_COMPONENTS)
    _limit_request_bodies(schemas)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                _limit_parameters(operation)
                _limit_filters(operation)
                _document_errors(path, method, operation)
    return result
