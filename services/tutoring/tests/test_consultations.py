"""Consultations: booking with the intake, one booking per slot (also concurrently), access."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import requests

from services.tutoring.tests.helpers import World, intake


def test_booking_a_slot_with_a_valid_intake_records_consultation_booked(world: World):
    _tutor, tutor_id = world.available_tutor()
    student = world.student()
    slot = world.slot(tutor_id)
    r = world.book(student, tutor_id, slot["starts_at"])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "booked" and body["time_zone"] == "Asia/Kolkata"
    assert body["intake"]["weak_areas"] == ["renal", "cardiovascular"]
    assert datetime.fromisoformat(body["starts_at"]) == datetime.fromisoformat(slot["starts_at"])
    [event] = world.events("consultation.booked")
    assert event["consultation_id"] == body["id"]
    assert event["ics_uid"] == f"consultation-{body['id']}@preceptor"
    assert event["ics_sequence"] == 0
    assert (event["student_email"], event["student_timezone"]) == (
        "ada@example.com",
        "Asia/Kolkata",
    )
    assert (event["tutor_email"], event["tutor_timezone"]) == (
        "tess@example.com",
        "America/New_York",
    )
    assert slot not in world.slots(tutor_id)


def test_an_invalid_intake_is_refused_naming_the_field_and_books_nothing(world: World):
    _tutor, tutor_id = world.available_tutor()
    student = world.student()
    start = world.slot(tutor_id)["starts_at"]
    cases = {
        "exam": intake(exam="step3"),
        "exam_date": intake(exam_date="2001-01-01"),
        "attempts": intake(attempts=9),
        "weekly_hours": intake(weekly_hours=0),
        "weak_areas": intake(weak_areas=["astrology"]),
    }
    for name, form in cases.items():
        r = world.book(student, tutor_id, start, intake=form)
        assert r.status_code == 422, (name, r.get_json())
        assert name in r.get_json()["errors"], (name, r.get_json())
    r = world.book(student, tutor_id, start, time_zone="Atlantis/Capital")
    assert r.status_code == 422 and "time_zone" in r.get_json()["errors"]
    assert world.events("consultation.booked") == []


def test_a_time_the_tutor_does_not_offer_is_refused(world: World):
    _tutor, tutor_id = world.available_tutor()
    first = datetime.fromisoformat(world.slot(tutor_id)["starts_at"])
    r = world.book(world.student(), tutor_id, (first + timedelta(minutes=7)).isoformat())
    assert r.status_code == 422 and "starts_at" in r.get_json()["errors"]


def test_two_concurrent_bookings_of_one_slot_give_one_201_and_one_409(world: World):
    _tutor, tutor_id = world.available_tutor()
    students = [world.student(f"s{i}@example.com") for i in range(2)]
    start = world.slot(tutor_id)["starts_at"]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def book(headers: dict[str, str]) -> None:
        barrier.wait()
        r = requests.post(
            f"{world.tutoring.url}/api/consultations",
            json={
                "tutor_id": tutor_id,
                "starts_at": start,
                "time_zone": "Europe/Berlin",
                "intake": intake(),
            },
            headers=headers,
            timeout=30,
        )
        statuses.append(r.status_code)
        if r.status_code == 409:
            assert r.json()["errors"].keys() == {"starts_at"}

    threads = [threading.Thread(target=book, args=(h,)) for h in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409]
    assert len(world.events("consultation.booked")) == 1


def test_a_student_has_one_open_consultation_at_a_time(world: World):
    _tutor, tutor_id = world.available_tutor()
    student = world.student()
    world.booked(student, tutor_id)
    r = world.book(student, tutor_id, world.slot(tutor_id)["starts_at"])
    assert r.status_code == 409, r.get_json()
    assert len(world.events("consultation.booked")) == 1


def test_cancelling_frees_the_slot_and_sends_a_newer_sequence(world: World):
    _tutor, tutor_id = world.available_tutor()
    student = world.student()
    slot = world.slot(tutor_id)
    booked = world.booked(student, tutor_id)
    r = world.client.post(
        f"/api/consultations/{booked['id']}/cancel", json={"reason": "exam moved"}, headers=student
    )
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    [event] = world.events("consultation.cancelled")
    assert (event["cancelled_by"], event["reason"], event["ics_sequence"]) == (
        "student",
        "exam moved",
        1,
    )
    assert slot in world.slots(tutor_id)
    other = world.student("bo@example.com")
    assert world.book(other, tutor_id, slot["starts_at"]).status_code == 201
    again = world.client.post(f"/api/consultations/{booked['id']}/cancel", json={}, headers=student)
    assert again.status_code == 409


def test_only_its_student_and_its_tutor_see_a_consultation(world: World):
    tutor, tutor_id = world.available_tutor()
    other_tutor, _ = world.available_tutor(email="otto@example.com")
    student = world.student()
    booked = world.booked(student, tutor_id)
    path = f"/api/consultations/{booked['id']}"
    assert world.client.get(path, headers=student).status_code == 200
    assert world.client.get(path, headers=tutor).status_code == 200
    assert world.client.get(path, headers=other_tutor).status_code == 403
    assert world.client.get(path, headers=world.student("eve@example.com")).status_code == 403
    assert world.client.post(f"{path}/complete", json={}, headers=other_tutor).status_code == 403
    assert world.client.post(f"{path}/cancel", json={}, headers=other_tutor).status_code == 403
    assert [c["id"] for c in world.client.get("/api/consultations", headers=tutor).get_json()] == [
        booked["id"]
    ]
    assert world.client.get("/api/consultations", headers=other_tutor).get_json() == []


def test_the_tutor_marks_a_no_show_which_ends_it_without_completing_it(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    booked = world.booked(student, tutor_id)
    path = f"/api/consultations/{booked['id']}"
    assert world.client.post(f"{path}/no-show", json={}, headers=student).status_code == 403
    world.start(booked["id"])
    r = world.client.post(f"{path}/no-show", json={}, headers=tutor)
    assert r.status_code == 200 and r.get_json()["status"] == "no_show"
    assert world.events("consultation.completed") == []
    assert world.client.post(f"{path}/complete", json={}, headers=tutor).status_code == 409


def test_a_tutor_cannot_complete_or_no_show_a_consultation_before_it_starts(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    booked = world.booked(student, tutor_id)
    path = f"/api/consultations/{booked['id']}"

    for action in ("complete", "no-show"):
        r = world.client.post(f"{path}/{action}", json={}, headers=tutor)
        assert r.status_code == 409, r.get_json()
        assert r.headers["Content-Type"] == "application/problem+json"
        assert (
            "it can be" in r.get_json()["detail"]
            and "once it has started" in r.get_json()["detail"]
        )
        assert "New York time (E" in r.get_json()["detail"]  # the tutor's clock

    assert world.client.get(path, headers=student).get_json() == booked  # nothing changed
    assert world.events("consultation.completed") == []
    world.start(booked["id"])
    r = world.client.post(f"{path}/complete", json={}, headers=tutor)
    assert r.status_code == 200 and r.get_json()["status"] == "completed"
    assert len(world.events("consultation.completed")) == 1
