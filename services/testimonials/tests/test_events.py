"""What the service learns from enrollment's and tutoring's events, over the real bus: courses
become programs, students become verified authors, and each is asked once per program."""

from __future__ import annotations

import sqlalchemy as sa

from services.testimonials import models, tokens
from services.testimonials.tests.conftest import World
from services.testimonials.use_cases import learning
from shared.bus.envelope import typed


def test_an_activated_enrollment_makes_the_course_a_program_with_its_title(world: World):
    ada = world.student()
    assert world.client.get("/api/programs").get_json() == [
        {"program": "tutoring", "label": "1:1 tutoring"}
    ]
    world.publish(world.enrollment_event("enrollment.activated", ada))
    assert world.client.get("/api/programs").get_json() == [
        {"program": "tutoring", "label": "1:1 tutoring"},
        {"program": "course:usmle-step-1-prep", "label": "USMLE Step 1 Prep"},
    ]


def test_a_fact_before_submission_marks_the_testimonial_verified(world: World):
    ada = world.student()
    world.publish(world.enrollment_event("enrollment.activated", ada))
    answer = world.submitted(ada, program="course:usmle-step-1-prep")
    assert answer["verified"] is True
    # The fact is about that course: a story about tutoring is not verified by it.
    assert world.submitted(ada, program="tutoring")["verified"] is False


def test_a_fact_after_submission_marks_the_existing_testimonials_verified(world: World):
    ada, bo = world.student(), world.student("Bo Brown")
    mine = world.submitted(ada)
    theirs = world.submitted(bo)
    assert mine["verified"] is False
    world.publish(world.tutoring_event("consultation.completed", ada))
    world.approved(mine["id"])
    world.approved(theirs["id"])
    badges = {t["id"]: t["verified"] for t in world.wall()}
    assert badges == {mine["id"]: True, theirs["id"]: False}
    [submitted] = [
        e for e in world.svc.recorded("testimonial.submitted") if e["testimonial_id"] == mine["id"]
    ]
    assert submitted["verified"] is False  # what was true when it was submitted


def test_a_completed_session_also_verifies_a_tutoring_author(world: World):
    ada = world.student()
    world.publish(world.tutoring_event("session.completed", ada))
    assert world.submitted(ada, program="tutoring")["verified"] is True


def test_a_completed_course_asks_once_even_when_events_are_redelivered(world: World):
    ada = world.student()
    completed = world.enrollment_event("enrollment.completed", ada)
    world.publish(completed, times=3)  # the same event three times (the inbox skips repeats)
    # ... and another completion of the same course (a second enrollment): still once.
    world.publish(world.enrollment_event("enrollment.completed", ada))
    [request] = world.requested()
    assert request["user_id"] == ada.user_id
    assert request["email"] == ada.email and request["name"] == ada.name
    assert request["program"] == "course:usmle-step-1-prep"
    assert request["program_label"] == "USMLE Step 1 Prep"
    assert tokens.read_request_token(request["token"]) == request["request_id"]
    # A different course is a different program: asked about it too.
    world.publish(world.enrollment_event("enrollment.completed", ada, slug="usmle-step-2-ck-prep"))
    assert [r["program"] for r in world.requested()] == [
        "course:usmle-step-1-prep",
        "course:usmle-step-2-ck-prep",
    ]


def test_the_third_completed_session_asks_about_tutoring_once(world: World, monkeypatch):
    monkeypatch.delenv("TESTIMONIAL_REQUEST_AFTER_SESSIONS", raising=False)
    ada = world.student()
    first = world.tutoring_event("session.completed", ada)
    world.publish(first, times=2)
    world.publish(world.tutoring_event("session.completed", ada))
    assert world.requested() == []  # two sessions, even if the first was delivered twice
    world.publish(world.tutoring_event("session.completed", ada))
    world.publish(world.tutoring_event("session.completed", ada))
    [request] = world.requested()
    assert (request["program"], request["program_label"]) == ("tutoring", "1:1 tutoring")


def test_the_session_threshold_is_configurable(world: World, monkeypatch):
    monkeypatch.setenv("TESTIMONIAL_REQUEST_AFTER_SESSIONS", "1")
    ada = world.student()
    world.publish(world.tutoring_event("session.completed", ada))
    assert [r["user_id"] for r in world.requested()] == [ada.user_id]


def test_the_same_session_counted_twice_past_the_inbox_counts_once(world: World):
    ada = world.student()
    event = world.tutoring_event("session.completed", ada)
    for _ in range(3):  # as if the inbox had failed: the session id is the key
        learning.session_completed(world.svc.runtime.uow(), typed(event), 2)
    with world.svc.runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(models.CompletedSession)) == 1
    assert world.requested() == []


def test_asking_twice_past_the_inbox_still_records_one_request(world: World):
    ada = world.student()
    event = typed(world.enrollment_event("enrollment.completed", ada))
    for _ in range(2):
        learning.enrollment_completed(world.svc.runtime.uow(), event)
    assert len(world.requested()) == 1
