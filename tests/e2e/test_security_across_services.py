"""Tokens issued by identity are checked by the other services on their own (JWKS, roles)."""

from __future__ import annotations

import requests

from shared import config


def login(suite, email: str, password: str) -> dict:
    r = requests.post(
        f"{suite.identity.url}/api/auth/login", json={"email": email, "password": password}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_email_admin_endpoints_check_identity_tokens_and_roles(suite):
    admin_area = f"{suite.email.url}/api/admin/deliveries"
    assert requests.get(admin_area).status_code == 401
    assert (
        requests.get(admin_area, headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
    )

    requests.post(
        f"{suite.identity.url}/api/users",
        json={"email": "sam@example.com", "password": "a student password", "name": "Sam"},
    )
    student = login(suite, "sam@example.com", "a student password")
    refused = requests.get(admin_area, headers=student)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith("application/problem+json")

    admin = login(
        suite, config.env("ADMIN_EMAIL", "admin@preceptor.localhost"), config.admin_password()
    )
    assert requests.get(admin_area, headers=admin).status_code == 200


def test_a_token_signed_before_key_rotation_still_works_in_other_services(suite):
    admin = login(
        suite, config.env("ADMIN_EMAIL", "admin@preceptor.localhost"), config.admin_password()
    )
    rotated = requests.post(f"{suite.identity.url}/api/admin/signing-keys/rotate", headers=admin)
    assert rotated.status_code == 201
    assert (
        requests.get(f"{suite.email.url}/api/admin/subscribers", headers=admin).status_code == 200
    )
    fresh = login(
        suite, config.env("ADMIN_EMAIL", "admin@preceptor.localhost"), config.admin_password()
    )
    assert (
        requests.get(f"{suite.email.url}/api/admin/subscribers", headers=fresh).status_code == 200
    )
