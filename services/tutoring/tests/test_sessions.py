"""Paid sessions: consultation first, one hour each, one booking per slot, cancel, move, notes."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests

from services.tutoring.tests.helpers import World
from shared.db import utcnow


def test_a_session_is_bookable_only_after_a_completed_consultation_and_uses_one_hour(
    paid_world: World,
):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.student()
    world.buy(student, tutor_id)
    start = world.slot_after(tutor_id, 48)
    r = world.book_session(student, tutor_id, start)
    assert r.status_code == 409 and "consultation" in r.get_json()["title"]
    assert world.credits(student, tutor_id) == 5
    world.completed(student, tutor, tutor_id)
    r = world.book_session(student, tutor_id, start)
    assert r.status_code == 201, r.get_json()
    session = r.get_json()
    assert session["status"] == "booked" and session["reschedules_left"] == 2
    assert world.credits(student, tutor_id) == 4
    [event] = world.events("session.booked")
    assert (event["session_id"], event["rescheduled"], event["ics_sequence"]) == (
        session["id"],
        False,
        0,
    )
    assert event["ics_uid"] == f"session-{session['id']}@preceptor"
    assert start not in world.session_slots(tutor_id)


def test_without_hours_left_a_session_is_refused(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.student()
    world.completed(student, tutor, tutor_id)
    r = world.book_session(student, tutor_id, world.slot_after(tutor_id, 48))
    assert r.status_code == 409 and "tutor_id" in r.get_json()["errors"]
    assert world.events("session.booked") == []


def test_a_time_not_offered_for_sessions_is_refused(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    start = datetime.fromisoformat(world.slot_after(tutor_id, 48)) + timedelta(minutes=7)
    r = world.book_session(student, tutor_id, start.isoformat())
    assert r.status_code == 422 and "starts_at" in r.get_json()["errors"]
    assert world.credits(student, tutor_id) == 5


def test_two_concurrent_bookings_of_one_slot_give_one_201_and_one_409(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    start = world.slot_after(tutor_id, 48)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def book() -> None:
        barrier.wait()
        r = requests.post(
            f"{world.tutoring.url}/api/sessions",
            json={"tutor_id": tutor_id, "starts_at": start, "time_zone": "Europe/Berlin"},
            headers=student,
            timeout=30,
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=book) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409]
    assert world.credits(student, tutor_id) == 4
    assert len(world.events("session.booked")) == 1


def test_an_early_student_cancellation_returns_the_hour_and_a_late_one_forfeits_it(
    paid_world: World,
):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    early = world.session(student, tutor_id, hours_ahead=48)
    late = world.session(student, tutor_id, hours_ahead=1)
    assert world.credits(student, tutor_id) == 3
    r = world.client.post(
        f"/api/sessions/{early['id']}/cancel", json={"reason": "ill"}, headers=student
    )
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["status"], r.get_json()["credit_returned"]) == ("cancelled", True)
    assert world.credits(student, tutor_id) == 4
    r = world.client.post(f"/api/sessions/{late['id']}/cancel", json={}, headers=student)
    assert r.status_code == 200 and r.get_json()["credit_returned"] is False
    assert world.credits(student, tutor_id) == 4
    first, second = world.events("session.cancelled")
    assert (first["cancelled_by"], first["credit_returned"], first["ics_sequence"]) == (
        "student",
        True,
        1,
    )
    assert (second["credit_returned"], second["reason"]) == (False, "")
    r = world.client.post(f"/api/sessions/{early['id']}/cancel", json={}, headers=student)
    assert r.status_code == 409


def test_a_tutor_cancellation_always_returns_the_hour_and_tells_the_student(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    late = world.session(student, tutor_id, hours_ahead=1)
    assert world.credits(student, tutor_id) == 4
    r = world.client.post(
        f"/api/sessions/{late['id']}/cancel", json={"reason": "I am ill"}, headers=tutor
    )
    assert r.status_code == 200 and r.get_json()["credit_returned"] is True
    assert world.credits(student, tutor_id) == 5
    [event] = world.events("session.cancelled")
    assert (event["cancelled_by"], event["student_email"], event["reason"]) == (
        "tutor",
        "ada@example.com",
        "I am ill",
    )
    assert late["starts_at"] in world.session_slots(tutor_id)


def test_a_student_may_move_a_session_twice_but_not_a_third_time(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    session = world.session(student, tutor_id, hours_ahead=48)
    for n, hours in ((1, 72), (2, 96)):
        start = world.slot_after(tutor_id, hours)
        r = world.client.post(
            f"/api/sessions/{session['id']}/reschedule", json={"starts_at": start}, headers=student
        )
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["reschedules"] == n
        assert datetime.fromisoformat(r.get_json()["starts_at"]) == datetime.fromisoformat(start)
    r = world.client.post(
        f"/api/sessions/{session['id']}/reschedule",
        json={"starts_at": world.slot_after(tutor_id, 120)},
        headers=student,
    )
    assert r.status_code == 409, r.get_json()
    booked = world.events("session.booked")
    assert [(e["rescheduled"], e["ics_sequence"]) for e in booked] == [
        (False, 0),
        (True, 1),
        (True, 2),
    ]
    assert {e["ics_uid"] for e in booked} == {f"session-{session['id']}@preceptor"}
    assert session["starts_at"] in world.session_slots(tutor_id)  # the first time is free again
    assert world.credits(student, tutor_id) == 4
    r = world.client.post(
        f"/api/sessions/{session['id']}/reschedule",
        json={"starts_at": world.slot_after(tutor_id, 120)},
        headers=tutor,
    )
    assert r.status_code == 403


def test_the_tutor_completes_a_started_session_with_a_lesson_note(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    session = world.session(student, tutor_id)
    note = {"lesson_note": "Renal acid-base: do 40 questions before Friday."}
    r = world.client.post(f"/api/sessions/{session['id']}/complete", json=note, headers=tutor)
    assert r.status_code == 409  # it has not started yet
    assert "it can be completed once it has started" in r.get_json()["detail"]
    unchanged = world.client.get(f"/api/sessions/{session['id']}", headers=tutor).get_json()
    assert (unchanged["status"], unchanged["lesson_note"]) == ("booked", None)
    assert world.events("session.completed") == []
    world.move_session(session["id"], utcnow() - timedelta(minutes=5))
    r = world.client.post(f"/api/sessions/{session['id']}/complete", json=note, headers=tutor)
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["status"], r.get_json()["lesson_note"]) == (
        "completed",
        note["lesson_note"],
    )
    [event] = world.events("session.completed")
    assert (event["session_id"], event["lesson_note"], event["student_email"]) == (
        session["id"],
        note["lesson_note"],
        "ada@example.com",
    )
    r = world.client.post(
        f"/api/sessions/{session['id']}/complete", json={"lesson_note": " "}, headers=tutor
    )
    assert r.status_code == 422 and "lesson_note" in r.get_json()["errors"]


def test_only_its_student_and_its_tutor_see_a_session(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    session = world.session(student, tutor_id)
    other = world.student("bo@example.com")
    assert world.client.get(f"/api/sessions/{session['id']}", headers=other).status_code == 403
    r = world.client.post(f"/api/sessions/{session['id']}/cancel", json={}, headers=other)
    assert r.status_code == 403
    assert world.client.get("/api/sessions", headers=other).get_json() == []
    assert world.client.get(f"/api/sessions/{session['id']}", headers=student).status_code == 200
    [seen] = world.client.get("/api/sessions", headers=tutor).get_json()
    assert seen["id"] == session["id"]


def test_a_booked_session_appears_in_the_students_calendar_feed(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    session = world.session(student, tutor_id)
    url = world.client.get("/api/calendar/me", headers=student).get_json()["url"]
    feed = world.client.get("/api" + urlsplit(url).path).get_data(as_text=True)
    assert f"UID:session-{session['id']}@preceptor" in feed
    assert "Tutoring session with Tess Tutor" in feed


def test_a_session_says_until_when_its_student_may_cancel_and_keep_the_hour(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    booked = world.session(student, tutor_id, hours_ahead=48)
    starts_at = datetime.fromisoformat(booked["starts_at"])
    assert datetime.fromisoformat(booked["can_cancel_until"]) == starts_at - timedelta(hours=24)
    listed = world.client.get("/api/sessions", headers=student).get_json()
    assert [s["can_cancel_until"] for s in listed] == [booked["can_cancel_until"]]
