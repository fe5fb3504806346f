"""Links already emailed keep working across a SECRET_KEY rotation while the old key is a
fallback, and stop when it is dropped; links made after the rotation need only the new key."""

from __future__ import annotations

from services.email import tokens
from services.email.tests.test_subscriptions import confirm_link, subscribe, token_of


def first_subscriber_manage_token(client, deliver, email: str) -> str:
    subscribe(client, email=email)
    link = confirm_link(deliver(1)[0])
    answer = client.post("/api/subscriptions/confirm", json={"token": token_of(link)})
    assert answer.status_code == 200
    return answer.get_json()["manage_token"]


def test_links_sent_before_the_rotation_work_while_the_old_key_is_a_fallback(
    email_service, deliver, secret_key_rotation
):
    client = email_service.client
    manage = first_subscriber_manage_token(client, deliver, "ada@example.com")
    subscribe(client, email="bob@example.com")
    unconfirmed = token_of(confirm_link(deliver(3)[-1]))
    campaign_unsubscribe = tokens.recipient_token("campaign-1", "ada@example.com")

    secret_key_rotation.rotate()

    assert client.get(f"/api/preferences/{manage}").status_code == 200
    unsubscribed = client.post(f"/api/unsubscribe/{manage}")
    assert unsubscribed.get_json() == {"email": "ada@example.com", "status": "unsubscribed"}
    confirmed = client.post("/api/subscriptions/confirm", json={"token": unconfirmed})
    assert confirmed.status_code == 200
    assert tokens.read_recipient_token(campaign_unsubscribe) == ("campaign-1", "ada@example.com")

    # The manage token answered after the rotation is signed with the new key alone.
    fresh = confirmed.get_json()["manage_token"]
    secret_key_rotation.drop_fallback()
    assert client.get(f"/api/preferences/{fresh}").get_json()["email"] == "bob@example.com"


def test_links_sent_before_the_rotation_are_refused_once_the_fallback_is_dropped(
    email_service, deliver, secret_key_rotation
):
    client = email_service.client
    manage = first_subscriber_manage_token(client, deliver, "ada@example.com")
    subscribe(client, email="bob@example.com")
    unconfirmed = token_of(confirm_link(deliver(3)[-1]))
    campaign_unsubscribe = tokens.recipient_token("campaign-1", "ada@example.com")

    secret_key_rotation.rotate()
    secret_key_rotation.drop_fallback()

    assert client.get(f"/api/preferences/{manage}").status_code == 404
    assert client.post(f"/api/unsubscribe/{manage}").status_code == 404
    refused = client.post("/api/subscriptions/confirm", json={"token": unconfirmed})
    assert refused.status_code == 422
    assert "token" in refused.get_json()["errors"]
    assert tokens.read_recipient_token(campaign_unsubscribe) is None
