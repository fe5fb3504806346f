"""Tutors: profiles made from identity's event, edits, availability and slots in any zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.tutoring.tests.helpers import WEEKDAYS_9_TO_12, World


def test_an_accepted_tutor_invitation_opens_a_tutor_profile_in_new_york_time(world: World):
    headers = world.tutor(email="tess@example.com", name="Tess Tutor")
    admin_view = world.client.get("/api/admin/tutors", headers=world.admin()).get_json()
    assert [(t["name"], t["email"], t["time_zone"]) for t in admin_view] == [
        ("Tess Tutor", "tess@example.com", "America/New_York")
    ]
    mine = world.client.get("/api/tutors/me", headers=headers).get_json()
    assert mine["consultation_minutes"] == 30 and mine["session_minutes"] == 60
    assert (mine["buffer_minutes"], mine["min_notice_hours"], mine["horizon_days"]) == (15, 24, 28)


def test_students_see_only_tutors_who_wrote_a_bio(world: World):
    headers = world.tutor()
    assert world.client.get("/api/tutors").get_json() == []
    r = world.client.put(
        "/api/tutors/me",
        json={"bio": "Ten years of Step 1", "exams": ["step2ck", "step1"], "photo_url": None},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    listed = world.client.get("/api/tutors").get_json()
    assert [(t["bio"], t["exams"]) for t in listed] == [
        ("Ten years of Step 1", ["step1", "step2ck"])
    ]
    assert "email" not in listed[0]
    assert listed[0]["horizon_days"] == 28  # how far ahead its slot picker can reach
    assert world.client.get(f"/api/tutors/{listed[0]['id']}").get_json()["bio"] == listed[0]["bio"]
    assert world.client.get("/api/tutors/nobody").status_code == 404


def test_a_tutor_profile_refuses_an_unknown_time_zone_naming_the_field(world: World):
    headers = world.tutor()
    r = world.client.put("/api/tutors/me", json={"time_zone": "Mars/Olympus"}, headers=headers)
    assert r.status_code == 422
    assert "time_zone" in r.get_json()["errors"]
    assert world.client.get("/api/tutors/me", headers=headers).get_json()["time_zone"] == (
        "America/New_York"
    )


def test_only_tutors_edit_tutor_profiles_and_only_admins_list_them_all(world: World):
    student = world.student()
    assert world.client.put("/api/tutors/me", json={"bio": "x"}, headers=student).status_code == 403
    assert world.client.get("/api/admin/tutors", headers=student).status_code == 403


def test_slots_follow_the_tutors_new_york_windows_and_show_on_a_kolkata_clock(world: World):
    _headers, tutor_id = world.available_tutor()
    slots = world.slots(tutor_id, tz="Asia/Kolkata")
    assert slots, "a tutor open every morning offers slots"
    new_york, kolkata = ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")
    for slot in slots:
        starts = datetime.fromisoformat(slot["starts_at"])
        local = datetime.fromisoformat(slot["local_start"])
        assert local == starts and local.utcoffset() == timedelta(hours=5, minutes=30)
        assert local.astimezone(kolkata) == local
        wall = starts.astimezone(new_york)
        assert wall.hour in (9, 10, 11) and wall.minute in (0, 30)
        assert datetime.fromisoformat(slot["ends_at"]) - starts == timedelta(minutes=30)


def test_time_off_removes_slots_and_taking_it_back_restores_them(world: World):
    headers, tutor_id = world.available_tutor()
    before = world.slots(tutor_id)
    first = datetime.fromisoformat(before[0]["starts_at"])
    r = world.client.post(
        "/api/tutors/me/time-off",
        json={
            "starts_at": (first - timedelta(hours=1)).isoformat(),
            "ends_at": (first + timedelta(hours=6)).isoformat(),
        },
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    during = world.slots(tutor_id)
    assert before[0] not in during and len(during) < len(before)
    availability = world.client.get("/api/tutors/me/availability", headers=headers).get_json()
    assert [t["id"] for t in availability["time_off"]] == [r.get_json()["id"]]
    deleted = world.client.delete(f"/api/tutors/me/time-off/{r.get_json()['id']}", headers=headers)
    assert deleted.status_code == 204
    after = world.slots(tutor_id)
    # The same offer again, but for its two ends, which the clock may move between the reads
    # (the first slot passing its notice, a new one at the horizon).
    assert all(slot in after for slot in before[1:]) and all(slot in before for slot in after[:-1])


def test_availability_is_replaced_as_a_whole_and_a_senseless_window_is_refused(world: World):
    headers, tutor_id = world.available_tutor()
    r = world.client.put(
        "/api/tutors/me/availability",
        json={"weekly": [{"weekday": 0, "start": "12:00", "end": "09:00"}]},
        headers=headers,
    )
    assert r.status_code == 422 and "weekly" in r.get_json()["errors"]
    shown = world.client.get("/api/tutors/me/availability", headers=headers).get_json()
    assert shown["weekly"] == WEEKDAYS_9_TO_12
    r = world.client.put(
        "/api/tutors/me/availability", json={"weekly": [], "overrides": []}, headers=headers
    )
    assert r.status_code == 200 and r.get_json()["weekly"] == []
    assert world.slots(tutor_id) == []


def test_slots_refuse_an_unknown_viewer_zone(world: World):
    _headers, tutor_id = world.available_tutor()
    r = world.client.get(f"/api/tutors/{tutor_id}/slots?tz=Nowhere/Land")
    assert r.status_code == 422 and "tz" in r.get_json()["errors"]


def test_a_tutor_with_a_rate_lists_the_packages_on_sale_with_their_prices(world: World):
    headers = world.tutor()
    profile = {"bio": "Renal, mostly", "exams": ["step1"], "session_rate_minor": 10000}
    assert world.client.put("/api/tutors/me", json=profile, headers=headers).status_code == 200
    (listed,) = world.client.get("/api/tutors").get_json()
    assert [
        (o["hours"], o["amount_minor"], o["discount_percent"]) for o in listed["package_options"]
    ] == [
        (1, 10000, 0),
        (5, 50000, 0),
        (10, 90000, 10),
    ]
    world.client.put("/api/tutors/me", json={"session_rate_minor": None}, headers=headers)
    assert world.client.get(f"/api/tutors/{listed['id']}").get_json()["package_options"] == []


def test_the_exams_and_their_areas_are_published_with_their_labels(world: World):
    exams = world.client.get("/api/exams").get_json()
    assert [(e["slug"], e["label"]) for e in exams] == [
        ("step1", "USMLE Step 1"),
        ("step2ck", "USMLE Step 2 CK"),
    ]
    areas = {a["slug"]: a["label"] for a in exams[0]["areas"]}
    assert areas["hematology-oncology"] == "Hematology & oncology" and len(areas) == 22
