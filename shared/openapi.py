"""What every service's OpenAPI document says about failures and about who may call.

Every error leaves as ``application/problem+json`` (``shared.problems.problem``), so the document
says so once, here, for every operation: the ``Problem`` schema, and the problem responses any
operation can give by its shape (a body can be malformed, too large or of the wrong type; a
path names something that may not exist; a token may be missing or of the wrong role). An
endpoint documents only the answers particular to it (a 409, a 402) with ``alt_response``.

Who may call an operation is declared by the decorators of ``shared.auth`` and lands in the
document as ``x-access`` (and ``x-roles``); ``ACCESS_KINDS`` lists what ``x-access`` can say.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from marshmallow import Schema, fields

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

ACCESS = "x-access"
ROLES = "x-roles"
ACCESS_KINDS = {
    "public": "anyone, no token (a link's token in the path or body may still be checked)",
    "signed-in": "any valid access token, whatever its roles",
    "roles": "an access token with one of the roles in x-roles",
    "secret": "no person's token: the caller proves itself with a shared secret or a signature",
}


class ProblemSchema(Schema):
    """RFC 9457 problem details, as ``shared.problems.problem`` writes them."""

    type = fields.String(required=True, metadata={"description": "URI naming the problem."})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(allow_none=True, metadata={"description": "The request path."})
    request_id = fields.String(allow_none=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per offending field (dotted for nested fields)."},
    )


def problem_content() -> dict[str, Any]:
    return {PROBLEM: {"schema": dict(PROBLEM_REF)}}


COMMON = {
    400: "The body is not well-formed JSON.",
    401: "No valid access token.",
    403: "The token's role, or who owns the thing, does not allow this.",
    404: "Nothing at that address.",
    413: "The body is larger than the service accepts.",
    415: "The body is not application/json.",
    422: "Invalid fields; `errors` names each one.",
    503: "A dependency (the database, identity's keys, payments) is unreachable; try again.",
}


def common_statuses(path: str, operation: dict[str, Any]) -> list[int]:
    """The problem responses an operation can give because of its shape alone."""
    statuses = [503]
    if operation.get(ACCESS) in ("signed-in", "roles"):
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if operation.get("requestBody"):
        statuses += [400, 413, 415, 422]
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        statuses.append(422)
    return statuses


class ProblemResponses(BasePlugin):
    """apispec plugin: documents every error response of every operation as a problem."""

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        spec.components.schema("Problem", schema=ProblemSchema)

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            documented = {str(status) for status in responses}
            for status in common_statuses(path or "", operation):
                if str(status) not in documented:
                    responses[str(status)] = {"description": COMMON[status]}
                    documented.add(str(status))
            for status, response in responses.items():
                undescribed = isinstance(response, dict) and not (
                    {"$ref", "content"} & set(response)
                )
                if str(status).startswith(("4", "5")) and undescribed:
                    response["content"] = problem_content()
