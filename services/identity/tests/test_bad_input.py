"""Bad requests get problem+json naming the field, change nothing; the spec documents every route."""

from __future__ import annotations

import pytest

from services.identity.api import blp, keys_blp
from services.identity.tests.helpers import PASSWORD, bearer, student_tokens, user_count
from shared import config


@pytest.fixture
def identity(services):
    return services("identity")


GOOD = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada Lovelace"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "email": 42}, "email"),
        ({**GOOD, "email": "not-an-email"}, "email"),
        ({**GOOD, "password": ["a list"]}, "password"),
        ({**GOOD, "password": "short"}, "password"),
        ({**GOOD, "password": "x" * 201}, "password"),
        ({**GOOD, "name": "   "}, "name"),
        ({k: v for k, v in GOOD.items() if k != "name"}, "name"),
        ({**GOOD, "role": "admin"}, "role"),
    ],
)
def test_a_bad_registration_is_a_422_naming_the_field_and_creates_nobody(identity, body, field):
    before = user_count(identity)
    response = identity.client.post("/api/users", json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert user_count(identity) == before


def test_malformed_json_is_a_400_problem(identity):
    before = user_count(identity)
    response = identity.client.post(
        "/api/users", data='{"email": "ada@', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert user_count(identity) == before


def test_a_body_that_is_not_json_is_a_415_problem(identity):
    response = identity.client.post("/api/auth/login", data="email=a&password=b")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"


def test_an_oversized_body_is_a_413_problem(identity):
    before = user_count(identity)
    body = {**GOOD, "name": "x" * (config.max_body_bytes() + 1)}
    response = identity.client.post("/api/users", json=body)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert user_count(identity) == before


def test_an_unknown_route_is_a_404_problem(identity):
    response = identity.client.post("/api/nothing-here", json={})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_a_wrong_method_is_a_405_problem(identity):
    response = identity.client.delete("/api/users")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/login", {"email": "ada@example.com"}, "password"),
        ("/api/auth/login", {"email": None, "password": PASSWORD}, "email"),
        ("/api/auth/refresh", {}, "refresh_token"),
        ("/api/auth/logout", {"refresh_token": 7}, "refresh_token"),
        ("/api/auth/service-token", {"service": "Bad Name!", "secret": "x"}, "service"),
        ("/api/password-resets", {"email": "nope"}, "email"),
        ("/api/password-resets/complete", {"password": PASSWORD}, "token"),
        ("/api/invitations/accept", {"token": "t", "password": 5}, "password"),
    ],
)
def test_every_endpoint_names_the_bad_field(identity, path, body, field):
    response = identity.client.post(path, json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_a_bad_name_change_is_refused_and_changes_nothing(identity):
    tokens = student_tokens(identity)
    response = identity.client.patch(
        "/api/users/me", json={"name": 12}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]
    me = identity.client.get("/api/users/me", headers=bearer(tokens["access_token"]))
    assert me.get_json()["name"] == "Ada Lovelace"


def test_openapi_documents_every_route_of_the_blueprints(identity):
    spec = identity.client.get("/openapi.json").get_json()
    names = {blp.name, keys_blp.name}
    routes = [r for r in identity.app.url_map.iter_rules() if r.endpoint.split(".")[0] in names]
    assert len(routes) >= 13
    protected = {
        ("/api/users/me", "get"),
        ("/api/users/me", "patch"),
        ("/api/admin/users", "get"),
        ("/api/admin/users", "post"),
        ("/api/admin/signing-keys/rotate", "post"),
    }
    for rule in routes:
        path = rule.rule.replace("<", "{").replace(">", "}")
        assert path in spec["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"][path].get(method.lower())
            assert operation is not None, f"{method} {path}"
            assert operation.get("responses"), f"{method} {path}"
            if (path, method.lower()) in protected:
                assert operation.get("security") == [{"bearer": []}], f"{method} {path}"
