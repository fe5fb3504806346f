"""Account pages: what the site sends to identity, and the session it keeps."""

from __future__ import annotations

from services.web.tests.conftest import csrf_from, sign_in


def test_login_sets_an_httponly_samesite_lax_session_cookie_and_goes_to_the_account(
    client, identity_api
):
    token = csrf_from(client, "/login")

    response = client.post(
        "/login",
        data={"email": "student@example.org", "password": "correct-horse", "csrf_token": token},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "preceptor_session=" in c]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    [call] = identity_api.calls_to("POST", "/api/auth/login")
    assert call.json == {"email": "student@example.org", "password": "correct-horse"}


def test_wrong_password_is_explained_on_the_login_form(client, identity_api):
    token = csrf_from(client, "/login")

    response = client.post(
        "/login",
        data={"email": "student@example.org", "password": "wrong-password", "csrf_token": token},
    )

    assert response.status_code == 401
    assert "don&#39;t match an account" in response.get_data(as_text=True)


def test_too_many_login_attempts_are_explained(client, identity_api):
    identity_api.answer("POST", "/api/auth/login", 429, {"detail": "Too many failed logins."})
    token = csrf_from(client, "/login")

    response = client.post(
        "/login", data={"email": "s@example.org", "password": "x", "csrf_token": token}
    )

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.get_data(as_text=True)


def test_login_returns_to_the_page_asked_for_but_never_to_another_site(client, identity_api):
    token = csrf_from(client, "/login?next=/admin/users")
    back = client.post(
        "/login",
        data={
            "email": "a@example.org",
            "password": "pw",
            "next": "/admin/users",
            "csrf_token": token,
        },
    )
    assert back.headers["Location"] == "/admin/users"

    token = csrf_from(client, "/login")
    away = client.post(
        "/login",
        data={
            "email": "a@example.org",
            "password": "pw",
            "next": "//evil.example",
            "csrf_token": token,
        },
    )
    assert (
        away.headers["Location"] == "/"
    )  # a hostile link leads home (tests/test_login_redirects.py)


def test_account_redirects_to_login_when_signed_out(client):
    response = client.get("/account")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount"


def test_account_shows_the_user_from_identity_with_their_token(client, identity_api):
    sign_in(client, "student@example.org")

    html = client.get("/account").get_data(as_text=True)

    assert "student@example.org" in html
    [call] = identity_api.calls_to("GET", "/api/users/me")
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"


def test_changing_the_name_patches_identity(client, identity_api):
    sign_in(client)
    token = csrf_from(client, "/account")

    response = client.post(
        "/account", data={"name": "Ada Lovelace", "csrf_token": token}, follow_redirects=True
    )

    assert "Your name is saved." in response.get_data(as_text=True)
    [call] = identity_api.calls_to("PATCH", "/api/users/me")
    assert call.json == {"name": "Ada Lovelace"}


def test_register_says_check_your_inbox_and_signs_nobody_in(client, identity_api):
    token = csrf_from(client, "/register")

    response = client.post(
        "/register",
        data={
            "name": "Ada Student",
            "email": "Ada@example.org",
            "password": "long-password-1",
            "confirm": "long-password-1",
            "csrf_token": token,
        },
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Check your inbox" in html and "ada@example.org" in html
    assert "sign in with the password you chose" in html
    assert "long-password-1" not in html
    [call] = identity_api.calls_to("POST", "/api/users")
    assert call.json == {
        "email": "Ada@example.org",
        "password": "long-password-1",
        "name": "Ada Student",
    }
    # identity's answer is the same for a taken email, so the site cannot sign anyone in here.
    assert identity_api.calls_to("POST", "/api/auth/login") == []
    assert client.get("/account").status_code == 302


def test_register_shows_identitys_field_errors_next_to_the_fields(client, identity_api):
    identity_api.answer(
        "POST",
        "/api/users",
        422,
        {"detail": "Invalid", "errors": {"email": ["Not a valid email address."]}},
    )
    token = csrf_from(client, "/register")

    response = client.post(
        "/register",
        data={
            "name": "Ada",
            "email": "ada@example",
            "password": "long-password-1",
            "confirm": "long-password-1",
            "csrf_token": token,
        },
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="field-error" id="email-error">Not a valid email address.</p>' in html
    assert "long-password-1" not in html  # passwords are never echoed back


def test_register_with_mismatched_passwords_never_reaches_identity(client, identity_api):
    token = csrf_from(client, "/register")

    response = client.post(
        "/register",
        data={
            "name": "Ada",
            "email": "ada@example.org",
            "password": "one-password",
            "confirm": "another-one",
            "csrf_token": token,
        },
    )

    assert response.status_code == 422
    assert "The two passwords don&#39;t match." in response.get_data(as_text=True)
    assert identity_api.calls_to("POST", "/api/users") == []


def test_logout_revokes_the_refresh_token_and_ends_the_session(client, identity_api):
    sign_in(client, "student@example.org")
    token = csrf_from(client, "/account")

    response = client.post("/logout", data={"csrf_token": token})

    assert response.headers["Location"] == "/"
    [call] = identity_api.calls_to("POST", "/api/auth/logout")
    assert call.json == {"refresh_token": "refresh.student@example.org"}
    assert client.get("/account").status_code == 302


def test_an_access_token_near_expiry_is_refreshed_before_use(client, identity_api):
    identity_api.access_ttl = 30  # inside the refresh margin
    sign_in(client, "student@example.org")

    client.get("/account")

    [refresh] = identity_api.calls_to("POST", "/api/auth/refresh")
    assert refresh.json == {"refresh_token": "refresh.student@example.org"}
    [me] = identity_api.calls_to("GET", "/api/users/me")
    assert me.headers["Authorization"] == "Bearer access-2.student@example.org"


def test_a_failed_refresh_signs_the_user_out(client, identity_api):
    identity_api.access_ttl = 30
    sign_in(client)
    identity_api.answer("POST", "/api/auth/refresh", 401, {"detail": "Refresh token revoked."})

    response = client.get("/account")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/account").headers["Location"] == "/login?next=%2Faccount"


def test_password_reset_request_never_reveals_whether_the_account_exists(client, identity_api):
    identity_api.answer("POST", "/api/password-resets", 404, {"detail": "No such user"})
    token = csrf_from(client, "/password-reset")

    response = client.post(
        "/password-reset", data={"email": "nobody@example.org", "csrf_token": token}
    )

    assert response.status_code == 200
    assert "If an account exists" in response.get_data(as_text=True)
    [call] = identity_api.calls_to("POST", "/api/password-resets")
    assert call.json == {"email": "nobody@example.org"}


def test_password_reset_with_an_expired_link_shows_the_token_error(client, identity_api):
    token = csrf_from(client, "/password-reset/expired")

    response = client.post(
        "/password-reset/expired",
        data={"password": "new-password-1", "confirm": "new-password-1", "csrf_token": token},
    )

    assert response.status_code == 422
    assert "This reset link has expired." in response.get_data(as_text=True)


def test_password_reset_sends_the_new_password_and_goes_to_sign_in(client, identity_api):
    token = csrf_from(client, "/password-reset/good")

    response = client.post(
        "/password-reset/good",
        data={"password": "new-password-1", "confirm": "new-password-1", "csrf_token": token},
    )

    assert response.headers["Location"] == "/login"
    [call] = identity_api.calls_to("POST", "/api/password-resets/complete")
    assert call.json == {"token": "good", "password": "new-password-1"}


def test_accepting_an_invitation_sets_the_password_and_signs_in(client, identity_api):
    token = csrf_from(client, "/invitation/inv-1")

    response = client.post(
        "/invitation/inv-1",
        data={"password": "tutor-password", "confirm": "tutor-password", "csrf_token": token},
    )

    assert response.headers["Location"] == "/account"
    [accept] = identity_api.calls_to("POST", "/api/invitations/accept")
    assert accept.json == {"token": "inv-1", "password": "tutor-password"}
    [login] = identity_api.calls_to("POST", "/api/auth/login")
    assert login.json == {"email": "invited@example.org", "password": "tutor-password"}


def test_admin_users_is_forbidden_to_a_student(client, identity_api):
    sign_in(client, "student@example.org")

    response = client.get("/admin/users")

    assert response.status_code == 403
    assert "You don&#39;t have access to this page" in response.get_data(as_text=True)
    assert identity_api.calls_to("GET", "/api/admin/users") == []


def test_admin_invites_a_tutor(client, identity_api):
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/users")

    response = client.post(
        "/admin/users",
        data={
            "email": "new@example.org",
            "name": "Nia Tutor",
            "role": "tutor",
            "csrf_token": token,
        },
        follow_redirects=True,
    )

    assert "Invitation sent to new@example.org." in response.get_data(as_text=True)
    [call] = identity_api.calls_to("POST", "/api/admin/users")
    assert call.json == {"email": "new@example.org", "name": "Nia Tutor", "role": "tutor"}
    assert call.headers["Authorization"] == "Bearer access-1.admin@example.org"
