"""Double opt-in, preferences and one-click unsubscribe, through HTTP, PostgreSQL, RabbitMQ and
a real SMTP server."""

from __future__ import annotations

import time

import sqlalchemy as sa

from services.email import tokens
from services.email.models import Delivery, Subscriber
from services.email.tests.conftest import PUBLIC_URL, link_in


def subscribe(client, email="Ada@Example.com", topics=("step1-tips",), **extra):
    return client.post("/api/subscriptions", json={"email": email, "topics": list(topics), **extra})


def count(svc, model) -> int:
    with svc.runtime.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def confirm_link(message) -> str:
    return link_in(message, f"{PUBLIC_URL}/confirm/")


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_topics_are_seeded_with_names_and_descriptions(email_service):
    answer = email_service.client.get("/api/topics")
    assert answer.status_code == 200
    topics = {t["slug"]: t for t in answer.get_json()}
    assert set(topics) == {"step1-tips", "step2ck", "course-announcements"}
    assert topics["step1-tips"]["name"] == "USMLE Step 1 tips"
    assert topics["step2ck"]["name"] == "USMLE Step 2 CK"
    assert topics["course-announcements"]["name"] == "Course announcements"
    assert all(t["description"] for t in topics.values())


def test_double_opt_in_confirms_announces_and_sends_one_click_unsubscribe(
    email_service, deliver, listener
):
    client = email_service.client
    answer = subscribe(client, name="Ada", topics=["step1-tips", "step2ck"])
    assert answer.status_code == 202
    assert answer.get_json() == {"status": "pending", "email": "ada@example.com"}

    [confirmation] = deliver(1)
    assert confirmation["To"] == "ada@example.com"
    assert confirmation.get_content_type() == "multipart/alternative"
    link = confirm_link(confirmation)
    assert link in confirmation.get_body(("html",)).get_content()
    assert "List-Unsubscribe" not in confirmation  # nothing to unsubscribe from yet
    assert client.get(f"/api/preferences/{token_of(link)}").status_code == 404  # wrong salt

    confirmed = client.post("/api/subscriptions/confirm", json={"token": token_of(link)})
    assert confirmed.status_code == 200
    body = confirmed.get_json()
    assert body["email"] == "ada@example.com"
    assert body["status"] == "confirmed"
    assert body["topics"] == ["step1-tips", "step2ck"]
    manage = body["manage_token"]

    [event] = listener()
    assert event.type == "subscriber.confirmed"
    assert event.data["email"] == "ada@example.com"
    assert sorted(event.data["topics"]) == ["step1-tips", "step2ck"]

    _, welcome = deliver(2)
    assert welcome["Subject"] == "You're subscribed to Preceptor updates"
    assert welcome["List-Unsubscribe"] == (
        f"<{PUBLIC_URL}/unsubscribe/{manage}>, "
        "<mailto:hello@preceptor.localhost?subject=unsubscribe>"
    )
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link_in(welcome, f"{PUBLIC_URL}/unsubscribe/") == f"{PUBLIC_URL}/unsubscribe/{manage}"
    assert link_in(welcome, f"{PUBLIC_URL}/preferences/") == f"{PUBLIC_URL}/preferences/{manage}"
    assert f"{PUBLIC_URL}/unsubscribe/{manage}" in welcome.get_body(("html",)).get_content()
    assert welcome["Message-ID"] != confirmation["Message-ID"]


def test_confirming_twice_answers_the_same_and_announces_once(email_service, deliver, listener):
    client = email_service.client
    subscribe(client)
    token = token_of(confirm_link(deliver(1)[0]))
    first = client.post("/api/subscriptions/confirm", json={"token": token})
    second = client.post("/api/subscriptions/confirm", json={"token": token})
    assert first.status_code == second.status_code == 200
    # The manage token is signed afresh with the time of each answer; the rest is identical.
    first_body, second_body = first.get_json(), second.get_json()
    assert first_body.pop("manage_token") and second_body.pop("manage_token")
    assert first_body == second_body
    assert [e.type for e in listener()] == ["subscriber.confirmed"]
    assert listener(timeout=0.5) == []
    assert len(deliver(2)) == 2  # one confirmation, one "you're subscribed"


def test_an_invalid_or_expired_confirmation_token_is_refused_naming_the_token(
    email_service, deliver
):
    client = email_service.client
    subscribe(client)
    token = token_of(confirm_link(deliver(1)[0]))
    with email_service.runtime.db.session() as s:
        sub = s.scalars(sa.select(Subscriber)).one()
    eight_days_ago = time.time() - 8 * 86400
    expired = tokens.confirm_token(sub.id, sub.nonce, issued_at=eight_days_ago)
    for bad in (expired, token + "x", "nonsense"):
        answer = client.post("/api/subscriptions/confirm", json={"token": bad})
        assert answer.status_code == 422
        assert answer.mimetype == "application/problem+json"
        assert "token" in answer.get_json()["errors"]
    with email_service.runtime.db.session() as s:
        assert s.scalars(sa.select(Subscriber.status)).one() == "pending"


def test_resubscribing_an_unconfirmed_address_resends_without_a_duplicate(email_service, deliver):
    client = email_service.client
    assert subscribe(client, email="ada@example.com").status_code == 202
    assert subscribe(client, email="ADA@Example.COM", topics=["step2ck"]).status_code == 202
    first, second = deliver(2)
    assert count(email_service, Subscriber) == 1
    # The resend is the same opt-in round: both links name the one subscriber and nonce (their
    # signing times may differ by a second), so the first email's link confirms too.
    first_token, second_token = (token_of(confirm_link(m)) for m in (first, second))
    assert tokens.read_confirm_token(first_token) == tokens.read_confirm_token(second_token)
    body = client.post("/api/subscriptions/confirm", json={"token": first_token}).get_json()
    assert body["topics"] == ["step1-tips", "step2ck"]


def test_resubscribing_a_confirmed_address_merges_topics_and_sends_nothing(
    email_service, deliver, listener
):
    client = email_service.client
    subscribe(client)
    token = token_of(confirm_link(deliver(1)[0]))
    manage = client.post("/api/subscriptions/confirm", json={"token": token}).get_json()[
        "manage_token"
    ]
    assert len(deliver(2)) == 2
    listener()

    again = subscribe(client, topics=["course-announcements"])
    assert again.status_code == 202
    assert again.get_json() == {"status": "pending", "email": "ada@example.com"}
    assert len(deliver()) == 2
    assert count(email_service, Delivery) == 2
    assert listener(timeout=0.5) == []
    prefs = client.get(f"/api/preferences/{manage}").get_json()
    assert prefs == {
        "email": "ada@example.com",
        "topics": ["course-announcements", "step1-tips"],
        "status": "confirmed",
    }


def test_preferences_are_read_and_changed_with_the_manage_token(email_service, deliver):
    client = email_service.client
    subscribe(client)
    token = token_of(confirm_link(deliver(1)[0]))
    manage = client.post("/api/subscriptions/confirm", json={"token": token}).get_json()[
        "manage_token"
    ]
    changed = client.put(f"/api/preferences/{manage}", json={"topics": ["step2ck"]})
    assert changed.status_code == 200
    assert changed.get_json() == {
        "email": "ada@example.com",
        "topics": ["step2ck"],
        "status": "confirmed",
    }
    assert client.get(f"/api/preferences/{manage}").get_json()["topics"] == ["step2ck"]

    unknown = client.put(f"/api/preferences/{manage}", json={"topics": ["cooking"]})
    assert unknown.status_code == 422
    assert "topics" in unknown.get_json()["errors"]
    assert client.get(f"/api/preferences/{manage}").get_json()["topics"] == ["step2ck"]

    assert client.get("/api/preferences/not-a-token").status_code == 404
    assert (
        client.put("/api/preferences/not-a-token", json={"topics": ["step2ck"]}).status_code == 404
    )


def test_one_click_unsubscribe_takes_a_form_post_but_not_a_get(email_service, deliver, listener):
    client = email_service.client
    subscribe(client)
    token = token_of(confirm_link(deliver(1)[0]))
    manage = client.post("/api/subscriptions/confirm", json={"token": token}).get_json()[
        "manage_token"
    ]
    listener()

    looked = client.get(f"/api/unsubscribe/{manage}")
    assert looked.status_code == 405
    assert client.get(f"/api/preferences/{manage}").get_json()["status"] == "confirmed"

    answer = client.post(
        f"/api/unsubscribe/{manage}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    assert answer.get_json() == {"email": "ada@example.com", "status": "unsubscribed"}
    [event] = listener()
    assert event.type == "subscriber.unsubscribed"
    assert event.data["email"] == "ada@example.com"

    again = client.post(f"/api/unsubscribe/{manage}")
    assert again.status_code == 200
    assert again.get_json()["status"] == "unsubscribed"
    assert listener(timeout=0.5) == []
    assert client.get(f"/api/preferences/{manage}").get_json()["status"] == "unsubscribed"
    assert client.post("/api/unsubscribe/not-a-token").status_code == 404


def test_an_unsubscribed_address_goes_through_double_opt_in_again(email_service, deliver):
    client = email_service.client
    subscribe(client)
    old_token = token_of(confirm_link(deliver(1)[0]))
    manage = client.post("/api/subscriptions/confirm", json={"token": old_token}).get_json()[
        "manage_token"
    ]
    client.post(f"/api/unsubscribe/{manage}")

    stale = client.post("/api/subscriptions/confirm", json={"token": old_token})
    assert stale.status_code == 422  # consent ended: the old link cannot bring it back

    assert subscribe(client, topics=["step2ck"]).status_code == 202
    messages = deliver(3)
    assert messages[-1]["Subject"] == "Confirm your Preceptor subscription"
    assert client.get(f"/api/preferences/{manage}").get_json() == {
        "email": "ada@example.com",
        "topics": ["step2ck"],
        "status": "pending",
    }
    fresh = token_of(confirm_link(messages[-1]))
    assert fresh != old_token
    confirmed = client.post("/api/subscriptions/confirm", json={"token": fresh})
    assert confirmed.get_json()["status"] == "confirmed"
    assert count(email_service, Subscriber) == 1


def test_concurrent_subscriptions_of_one_address_make_one_subscriber(email_service):
    from concurrent.futures import ThreadPoolExecutor

    def attempt(n: int) -> int:
        client = email_service.app.test_client()
        return subscribe(
            client, email="ADA@example.com" if n % 2 else "ada@example.com"
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(attempt, range(8)))
    assert answers == [202] * 8
    assert count(email_service, Subscriber) == 1
    assert count(email_service, Delivery) == 3  # MAIL_REQUEST_LIMIT confirmations, not 8


def test_seeding_again_adds_no_topics(email_service):
    from services.email import seed

    with email_service.runtime.db.engine.begin() as connection:
        seed.run(connection)
        seed.run(connection)
    assert len(email_service.client.get("/api/topics").get_json()) == 3


def test_migrating_an_embedded_sqlite_database_seeds_the_topics(tmp_path):
    from shared import migrations

    url = f"sqlite:///{tmp_path / 'email.db'}"
    migrations.upgrade("email", url)
    migrations.upgrade("email", url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        slugs = sorted(conn.scalars(sa.text("SELECT slug FROM topics")))
    engine.dispose()
    assert slugs == ["course-announcements", "step1-tips", "step2ck"]
