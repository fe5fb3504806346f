"""The money path across services over HTTP: enrollment, payments, localstripe, bus, email.

Each test is a thing that goes wrong (or right) in production: Stripe retrying its webhook, a
student asking for their money back.
"""

from __future__ import annotations

import json

import requests

from services.payments.tests.helpers import signature, stripe_client
from shared.testing.fixtures import wait_for
from tests.e2e.mail import mails_to, wait_for_mail

PASSWORD = "boards are coming soon"


def student(school, email: str) -> dict[str, str]:
    requests.post(
        f"{school.identity.url}/api/users",
        json={"email": email, "password": PASSWORD, "name": "Kofi Mensah"},
    )
    login = requests.post(
        f"{school.identity.url}/api/auth/login", json={"email": email, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def enroll_and_pay(school, me: dict[str, str]) -> dict:
    r = requests.post(
        f"{school.enrollment.url}/api/enrollments",
        headers=me,
        json={"course_slug": "usmle-step-1-prep"},
    )
    assert r.status_code == 201, r.text
    enrollment = r.json()
    intent = enrollment["checkout"]["client_secret"].split("_secret_")[0]
    client = stripe_client()
    client.v1.payment_intents.update(intent, params={"payment_method": "pm_card_visa"})
    assert client.v1.payment_intents.confirm(intent).status == "succeeded"
    wait_for(
        lambda: status(school, me, enrollment["id"]) == "active",
        timeout=30,
        message="the webhook to activate the enrollment",
    )
    return enrollment


def status(school, me, enrollment_id: str) -> str:
    return requests.get(
        f"{school.enrollment.url}/api/enrollments/{enrollment_id}", headers=me
    ).json()["status"]


def test_stripe_delivering_the_same_webhook_three_times_activates_once_and_mails_one_receipt(
    school,
):
    me = student(school, "kofi@example.com")
    enrollment = enroll_and_pay(school, me)
    wait_for_mail(school.smtp, "kofi@example.com", "receipt")
    intent = enrollment["checkout"]["client_secret"].split("_secret_")[0]
    [event] = [
        e
        for e in stripe_client().v1.events.list(params={"limit": 100}).data
        if e.type == "payment_intent.succeeded" and e.data.object.id == intent
    ]
    payload = json.dumps(event.to_dict())

    for _ in range(2):  # Stripe retrying: the first delivery already came from localstripe
        r = requests.post(
            f"{school.payments.url}/api/stripe/webhook",
            data=payload,
            headers={"Stripe-Signature": signature(payload), "Content-Type": "application/json"},
        )
        assert r.status_code == 200 and r.json()["duplicate"] is True

    assert len(school.payments.recorded("payment.succeeded")) == 1
    assert len(school.enrollment.recorded("enrollment.activated")) == 1
    receipts = [
        m
        for m in mails_to(school.smtp, "kofi@example.com")
        if "receipt" in str(m["Subject"]).lower()
    ]
    assert len(receipts) == 1


def test_a_refund_inside_the_window_goes_through_stripe_once_and_frees_the_seat(school):
    me = student(school, "lena@example.com")
    enrollment = enroll_and_pay(school, me)
    course = requests.get(f"{school.enrollment.url}/api/courses/usmle-step-1-prep").json()
    seats = {c["start"]: c["seats_left"] for c in course["cycles"]}
    assert seats[enrollment["cycle_start"]] == 24

    r = requests.post(
        f"{school.enrollment.url}/api/enrollments/{enrollment['id']}/refund",
        headers=me,
        json={"reason": "My exam date moved"},
    )
    assert r.status_code == 202, r.text
    again = requests.post(
        f"{school.enrollment.url}/api/enrollments/{enrollment['id']}/refund", headers=me, json={}
    )
    assert again.status_code == 409

    wait_for(
        lambda: status(school, me, enrollment["id"]) == "refunded",
        timeout=30,
        message="the refund to come back through payments",
    )
    intent = enrollment["checkout"]["client_secret"].split("_secret_")[0]
    refunds = stripe_client().v1.refunds.list(params={"payment_intent": intent}).data
    assert [r.amount for r in refunds] == [149900]
    mail = wait_for_mail(school.smtp, "lena@example.com", "refund")
    assert "$1,499.00" in mail.get_body(preferencelist=("plain",)).get_content()
    course = requests.get(f"{school.enrollment.url}/api/courses/usmle-step-1-prep").json()
    assert {c["start"]: c["seats_left"] for c in course["cycles"]}[enrollment["cycle_start"]] == 25
