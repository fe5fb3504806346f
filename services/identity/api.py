"""Identity's HTTP API: request in, use case, response out."""

from __future__ import annotations

from typing import Any

from flask import current_app

from services.identity import domain, queries, schemas, signing_keys
from services.identity.use_cases import accounts, invitations, password_reset, sign_in
from shared import auth, client_address
from shared.http import Blueprint, current_uow, runtime_of

HUMANS = ("student", "tutor", "marketing", "admin")

blp = Blueprint(
    "identity", __name__, url_prefix="/api", description="Accounts, sign-in and tokens."
)
keys_blp = Blueprint(
    "keys", __name__, url_prefix="/.well-known", description="Public keys that verify tokens."
)


_uow = current_uow


def _client() -> str:
    """The client's address: the browser's when the site vouches for it (shared/client_address)."""
    return client_address.of_request()


# --- accounts ----------------------------------------------------------------------------------


@blp.route("/users", methods=["POST"])
@blp.arguments(schemas.RegistrationSchema)
@blp.response(202, schemas.RegistrationAnswerSchema)
@auth.public()
def register(body: dict[str, Any]) -> dict[str, Any]:
    """Create a student account; the answer is the same when the email already has one.

    A new address gets its account at once (sign in with the chosen password) and a welcome
    email; the owner of an existing account is emailed instead (sign in or reset the password),
    so the answer never tells a stranger whether an address has an account.
    """
    accounts.register(
        _uow(), body["email"], body["password"], body["name"], _client(), body.get("time_zone")
    )
    return {"status": "check-inbox", "email": domain.normalize_email(body["email"])}


@blp.route("/users/me", methods=["GET"])
@blp.response(200, schemas.UserSchema)
@blp.alt_response(401, description="No valid access token.")
@auth.require(*HUMANS)
def get_me() -> dict[str, Any]:
    """The signed-in person's account."""
    return queries.me(_uow(), auth.current_principal())


@blp.route("/users/me", methods=["PATCH"])
@blp.arguments(schemas.UpdateMeSchema)
@blp.response(200, schemas.UserSchema)
@blp.alt_response(401, description="No valid access token.")
@auth.require(*HUMANS)
def update_me(body: dict[str, Any]) -> dict[str, Any]:
    """Change the signed-in person's name and/or time zone (null clears the zone)."""
    changes = {"time_zone": body["time_zone"]} if "time_zone" in body else {}
    return accounts.update_me(_uow(), auth.current_principal(), body.get("name"), **changes)


# --- sign-in -----------------------------------------------------------------------------------


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(schemas.LoginSchema)
@blp.response(200, schemas.TokenPairSchema)
@blp.alt_response(401, description="Wrong email or password.")
@blp.alt_response(403, description="Invited account that has not chosen a password yet.")
@blp.alt_response(429, description="Too many failed logins; see `Retry-After`.")
@auth.public()
def login(body: dict[str, Any]) -> dict[str, Any]:
    """Exchange email and password for an access token and a refresh token."""
    return sign_in.login(_uow(), body["email"], body["password"], _client())


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(schemas.RefreshSchema)
@blp.response(200, schemas.TokenPairSchema)
@blp.alt_response(401, description="Unknown, revoked or expired refresh token.")
@auth.public()
def refresh(body: dict[str, Any]) -> dict[str, Any]:
    """New tokens for a refresh token, which stops working (rotation)."""
    return sign_in.refresh(_uow(), body["refresh_token"])


@blp.route("/auth/logout", methods=["POST"])
@blp.arguments(schemas.RefreshSchema)
@blp.response(204)
@auth.public()
def logout(body: dict[str, Any]) -> None:
    """Revoke a refresh token (repeating it is harmless)."""
    sign_in.logout(_uow(), body["refresh_token"])


@blp.route("/auth/service-token", methods=["POST"])
@blp.arguments(schemas.ServiceTokenRequestSchema)
@blp.response(200, schemas.ServiceTokenSchema)
@blp.alt_response(401, description="Wrong service secret.")
@auth.shared_secret()
def service_token(body: dict[str, Any]) -> dict[str, Any]:
    """An access token a service presents when it calls another service on its own behalf."""
    return sign_in.service_token(_uow(), body["service"], body["secret"])


# --- emailed links -----------------------------------------------------------------------------


@blp.route("/password-resets", methods=["POST"])
@blp.arguments(schemas.PasswordResetRequestSchema)
@blp.response(202, schemas.StatusSchema)
@auth.public()
def request_password_reset(body: dict[str, Any]) -> dict[str, Any]:
    """Email a reset link if the account exists; the answer is the same either way, and when
    too many were asked for the address or by this client (then nothing is sent)."""
    password_reset.request_password_reset(_uow(), body["email"], _client())
    return {"status": "sent"}


@blp.route("/password-resets/complete", methods=["POST"])
@blp.arguments(schemas.LinkCompletionSchema)
@blp.response(200, schemas.UserSchema)
@blp.alt_response(422, description="Invalid, expired or used link (field `token`).")
@auth.public()
def complete_password_reset(body: dict[str, Any]) -> dict[str, Any]:
    """Choose a new password with the emailed link; signs the account out everywhere.

    The answer is the account, so the site can end its own sessions of it on every device.
    """
    return password_reset.complete_password_reset(_uow(), body["token"], body["password"])


@blp.route("/invitations/accept", methods=["POST"])
@blp.arguments(schemas.LinkCompletionSchema)
@blp.response(200, schemas.UserSchema)
@blp.alt_response(422, description="Invalid, expired or used link (field `token`).")
@auth.public()
def accept_invitation(body: dict[str, Any]) -> dict[str, Any]:
    """Choose the password of an invited account."""
    return invitations.accept_invitation(_uow(), body["token"], body["password"])


# --- administration ----------------------------------------------------------------------------


@blp.route("/admin/users", methods=["GET"])
@blp.arguments(schemas.UserListQuerySchema, location="query")
@blp.response(200, schemas.UserSchema(many=True))
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not an admin.")
@auth.require("admin")
def list_users(query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every account, optionally of one role."""
    return queries.list_users(_uow(), query.get("role"))


@blp.route("/admin/users", methods=["POST"])
@blp.arguments(schemas.InvitationSchema)
@blp.response(201, schemas.UserSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not an admin.")
@blp.alt_response(409, description="The email already has an account (field `email`).")
@auth.require("admin")
def invite_user(body: dict[str, Any]) -> dict[str, Any]:
    """Create a tutor, marketing or admin account and email its invitation."""
    user, _token = invitations.invite_user(_uow(), body["email"], body["name"], body["role"])
    return user


@blp.route("/admin/signing-keys/rotate", methods=["POST"])
@blp.response(201, schemas.SigningKeySchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not an admin.")
@auth.require("admin")
def rotate_signing_key() -> dict[str, Any]:
    """Sign new tokens with a new key; tokens signed by the old one verify until they expire."""
    return {"kid": signing_keys.rotate_signing_key(_uow())}


@keys_blp.route("/jwks.json", methods=["GET"])
@keys_blp.response(200, schemas.JwksSchema)
@auth.public()
def jwks() -> dict[str, Any]:
    """Public keys of every token that may still be alive (JWKS, RFC 7517)."""
    return signing_keys.jwks(runtime_of(current_app).db)
