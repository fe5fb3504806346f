"""Reading the access declarations of an OpenAPI document (``x-access``, ``x-roles``).

The declarations are written by ``shared.auth``'s decorators (``require``, ``public``,
``shared_secret``); these helpers say, from the declaration alone, whether a kind of caller
may call an operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared import config
from shared.openapi import ACCESS, ACCESS_KINDS, ROLES
from tests.api.callers import ANONYMOUS, CALLERS, Caller

METHODS = ("get", "put", "post", "delete", "patch")
API_SERVICES = ("identity", "email", "enrollment", "payments", "tutoring", "testimonials")


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every operation of a spec as (METHOD, path, operation)."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def declaration_problems(operation: dict[str, Any]) -> list[str]:
    """What is wrong with an operation's declaration of who may call it (empty: nothing)."""
    kind = operation.get(ACCESS)
    if kind not in ACCESS_KINDS:
        return [f"x-access is {kind!r}, not one of {sorted(ACCESS_KINDS)}"]
    problems = []
    roles = operation.get(ROLES)
    if kind == "roles" and (not roles or set(roles) - set(CALLERS) - {ANONYMOUS}):
        problems.append(f"x-roles {roles!r} must name known roles")
    if kind != "roles" and roles is not None:
        problems.append("x-roles only goes with x-access: roles")
    token = {"bearer": []} in operation.get("security", [])
    if kind in ("signed-in", "roles") and operation.get("security") != [{"bearer": []}]:
        problems.append("an operation that needs a token must say so in security")
    if kind == "public" and token and {} not in operation["security"]:
        problems.append("a public operation may take a token only as optional ([..., {}])")
    return problems


def may_call(operation: dict[str, Any], caller: str) -> bool:
    """Whether the declaration lets this kind of caller through (ownership aside)."""
    kind = operation[ACCESS]
    if kind == "public":
        return True
    if kind == "secret" or caller == ANONYMOUS:
        return False
    if kind == "signed-in":
        return True
    return caller in operation[ROLES]


def permitted_caller(operation: dict[str, Any]) -> str:
    """A kind of caller the declaration lets through, the most ordinary one first."""
    kind = operation[ACCESS]
    if kind == "public":
        return "student" if {} in operation.get("security", []) else ANONYMOUS
    if kind == "secret":
        return ANONYMOUS
    if kind == "signed-in":
        return "student"
    return operation[ROLES][0]


def permitted_headers(operation: dict[str, Any], people: dict[str, Caller]) -> dict[str, str]:
    """Headers of a caller the operation lets through (the bounce webhook's secret for it)."""
    if operation.get(ACCESS) == "secret" and {"bearer": []} in operation.get("security", []):
        return {"Authorization": f"Bearer {config.bounce_webhook_secret()}"}
    return people[permitted_caller(operation)].headers
