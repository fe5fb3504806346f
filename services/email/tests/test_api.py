"""Bad input is refused as problem+json naming the field and changes nothing; staff pages
need the marketing or admin role."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.email.models import Delivery, Subscriber


def rows(svc) -> tuple[int, int]:
    with svc.runtime.db.session() as s:
        return (
            s.scalar(sa.select(sa.func.count()).select_from(Subscriber)),
            s.scalar(sa.select(sa.func.count()).select_from(Delivery)),
        )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "topics": ["step2ck"]}, "email"),
        ({"email": 42, "topics": ["step2ck"]}, "email"),
        ({"topics": ["step2ck"]}, "email"),
        ({"email": "a@example.com", "topics": ["cooking"]}, "topics"),
        ({"email": "a@example.com", "topics": []}, "topics"),
        ({"email": "a@example.com", "topics": "step2ck"}, "topics"),
        ({"email": "a@example.com", "topics": [1]}, "topics.0"),
        ({"email": "a@example.com"}, "topics"),
        ({"email": "a@example.com", "topics": ["step2ck"], "name": ["Ada"]}, "name"),
        ({"email": "a@example.com", "topics": ["step2ck"], "admin": True}, "admin"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field_and_creates_nothing(
    email_service, body, field
):
    answer = email_service.client.post("/api/subscriptions", json=body)
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert field in answer.get_json()["errors"]
    assert rows(email_service) == (0, 0)


def test_malformed_json_is_a_400_problem_and_creates_nothing(email_service):
    answer = email_service.client.post(
        "/api/subscriptions", data='{"email": "a@example.com", ', content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    assert rows(email_service) == (0, 0)


def test_a_form_body_is_refused_outside_the_unsubscribe_path(email_service):
    answer = email_service.client.post(
        "/api/subscriptions",
        data="email=a@example.com&topics=step2ck",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 415
    assert answer.mimetype == "application/problem+json"
    assert rows(email_service) == (0, 0)


def test_an_oversized_body_is_a_413_problem(email_service):
    email_service.app.config["MAX_CONTENT_LENGTH"] = 1024
    body = {"email": "a@example.com", "topics": ["step2ck"], "name": "x" * 4000}
    answer = email_service.client.post("/api/subscriptions", json=body)
    assert answer.status_code == 413
    assert answer.mimetype == "application/problem+json"
    assert rows(email_service) == (0, 0)


def test_an_unknown_route_is_a_404_problem(email_service):
    answer = email_service.client.get("/api/nowhere")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


def test_a_confirmation_without_a_token_names_the_token(email_service):
    answer = email_service.client.post("/api/subscriptions/confirm", json={"token": 5})
    assert answer.status_code == 422
    assert "token" in answer.get_json()["errors"]


def test_staff_pages_need_a_token_and_the_marketing_or_admin_role(email_service, staff_token):
    client = email_service.client
    for path in ("/api/admin/deliveries", "/api/admin/subscribers"):
        assert client.get(path).status_code == 401
        student = {"Authorization": f"Bearer {staff_token('student')}"}
        refused = client.get(path, headers=student)
        assert refused.status_code == 403
        assert refused.mimetype == "application/problem+json"
        for role in ("marketing", "admin"):
            allowed = client.get(path, headers={"Authorization": f"Bearer {staff_token(role)}"})
            assert allowed.status_code == 200, allowed.get_json()


def test_staff_see_deliveries_filtered_by_status_and_subscribers_with_topics(
    email_service, staff_token, deliver
):
    client = email_service.client
    client.post("/api/subscriptions", json={"email": "a@example.com", "topics": ["step2ck"]})
    client.post("/api/subscriptions", json={"email": "b@example.com", "topics": ["step1-tips"]})
    headers = {"Authorization": f"Bearer {staff_token('marketing')}"}

    queued = client.get("/api/admin/deliveries?status=queued", headers=headers).get_json()
    assert len(queued) == 2
    assert set(queued[0]) >= {
        "id",
        "kind",
        "to",
        "subject",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    }
    assert {d["to"] for d in queued} == {"a@example.com", "b@example.com"}
    deliver(2)
    assert client.get("/api/admin/deliveries?status=queued", headers=headers).get_json() == []
    sent = client.get("/api/admin/deliveries?status=sent", headers=headers).get_json()
    assert {d["status"] for d in sent} == {"sent"} and len(sent) == 2

    bad = client.get("/api/admin/deliveries?status=lost", headers=headers)
    assert bad.status_code == 422
    assert "status" in bad.get_json()["errors"]

    people = client.get("/api/admin/subscribers", headers=headers).get_json()
    assert {(p["email"], p["status"], tuple(p["topics"])) for p in people} == {
        ("a@example.com", "pending", ("step2ck",)),
        ("b@example.com", "pending", ("step1-tips",)),
    }


def test_the_openapi_document_lists_the_contract(email_service):
    spec = email_service.client.get("/openapi.json").get_json()
    assert {
        "/api/topics",
        "/api/subscriptions",
        "/api/subscriptions/confirm",
        "/api/preferences/{manage_token}",
        "/api/unsubscribe/{manage_token}",
        "/api/admin/deliveries",
        "/api/admin/subscribers",
    } <= set(spec["paths"])
