"""Session reminders: published once per start time, whatever the worker restarts."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.tutoring import worker
from services.tutoring.app import make_runtime
from services.tutoring.tests.helpers import World
from services.tutoring.use_cases import reminders


def run_reminders_job(world: World) -> None:
    """The worker's job, as a freshly started worker process would run it."""
    url = world.tutoring.runtime.db.engine.url.render_as_string(hide_password=False)
    runtime = make_runtime(database_url=url, broker=world.tutoring.runtime.broker)
    try:
        [job] = [j for j in worker.jobs if j.name == "reminders"]
        job.run(runtime)
    finally:
        runtime.db.dispose()


def test_the_reminder_is_published_exactly_once_across_a_worker_restart(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    soon = world.session(student, tutor_id, hours_ahead=2)
    world.session(student, tutor_id, hours_ahead=48)  # too far ahead for a reminder yet
    run_reminders_job(world)
    run_reminders_job(world)  # the restarted worker
    [reminder] = world.events("session.reminder_due")
    assert reminder["session_id"] == soon["id"]
    assert reminder["ics_uid"] == f"session-{soon['id']}@preceptor"
    assert reminder["student_email"] == "ada@example.com"


def test_a_moved_session_is_reminded_again_for_its_new_time(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    session = world.session(student, tutor_id, hours_ahead=30)
    starts = datetime.fromisoformat(session["starts_at"])
    later = starts - timedelta(hours=12)
    assert reminders.send_reminders(world.tutoring.runtime.uow(), now=later) == 1
    assert reminders.send_reminders(world.tutoring.runtime.uow(), now=later) == 0
    moved_to = world.slot_after(tutor_id, 40)
    r = world.client.post(
        f"/api/sessions/{session['id']}/reschedule", json={"starts_at": moved_to}, headers=student
    )
    assert r.status_code == 200, r.get_json()
    new_start = datetime.fromisoformat(moved_to)
    before_new = new_start - timedelta(hours=12)
    assert reminders.send_reminders(world.tutoring.runtime.uow(), now=before_new) == 1
    assert reminders.send_reminders(world.tutoring.runtime.uow(), now=before_new) == 0
    first, second = world.events("session.reminder_due")
    assert datetime.fromisoformat(first["starts_at"]) == starts
    assert datetime.fromisoformat(second["starts_at"]) == new_start
    assert second["ics_sequence"] == 1


def test_cancelled_sessions_get_no_reminder(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    session = world.session(student, tutor_id, hours_ahead=2)
    r = world.client.post(f"/api/sessions/{session['id']}/cancel", json={}, headers=tutor)
    assert r.status_code == 200
    run_reminders_job(world)
    assert world.events("session.reminder_due") == []
