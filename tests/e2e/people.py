"""The people of a journey: accounts made the way the school makes them, and their sign-ins."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from shared import config

PASSWORD = "a long enough password"


def admin_credentials() -> tuple[str, str]:
    return config.env("ADMIN_EMAIL", "admin@preceptor.localhost"), config.admin_password()


def api_login(school, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers for a person, as the site gets them when they sign in."""
    r = requests.post(
        f"{school.identity.url}/api/auth/login", json={"email": email, "password": password}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def register_student(school, email: str, name: str) -> dict[str, str]:
    r = requests.post(
        f"{school.identity.url}/api/users",
        json={"email": email, "password": PASSWORD, "name": name},
    )
    assert r.status_code == 202, r.text
    return api_login(school, email)


def invite_staff(school, email: str, name: str, role: str) -> dict[str, str]:
    """An admin invites a member of staff, who accepts the invitation and sets a password."""
    admin = api_login(school, *admin_credentials())
    r = requests.post(
        f"{school.identity.url}/api/admin/users",
        headers=admin,
        json={"email": email, "name": name, "role": role},
    )
    assert r.status_code == 201, r.text
    [invited] = [e for e in school.identity.recorded("user.invited") if e["email"] == email]
    accepted = requests.post(
        f"{school.identity.url}/api/invitations/accept",
        json={"token": invited["token"], "password": PASSWORD},
    )
    assert accepted.status_code == 200, accepted.text
    return api_login(school, email)


def sign_in(school, page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{school.site}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(email).first).to_be_visible()
