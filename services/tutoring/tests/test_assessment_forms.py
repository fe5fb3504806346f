"""The assessment form catalogue: seeded by the migration, kept by the admin."""

from __future__ import annotations

from services.tutoring.tests.helpers import World
from services.tutoring.tests.progress_helpers import make_plan, record

PATH = "/api/admin/assessment-forms"


def _problem(r, status: int, field: str) -> dict:
    assert r.status_code == status, r.get_json()
    assert r.headers["Content-Type"].startswith("application/problem+json")
    body = r.get_json()
    assert field in body.get("errors", {}), body
    return body


def test_everyone_signed_in_sees_the_seeded_active_forms(world: World):
    assert world.client.get("/api/assessment-forms").status_code == 401
    forms = world.client.get("/api/assessment-forms", headers=world.student()).get_json()
    by_id = {f["id"]: f for f in forms}
    assert by_id["nbme-cbssa-step1"] == {
        "id": "nbme-cbssa-step1",
        "name": "NBME Comprehensive Basic Science Self-Assessment",
        "exam": "step1",
        "scale": "percent",
        "scale_min": 0,
        "scale_max": 100,
        "passing_score": 60,
        "default_target": 70,
        "official": False,
        "active": True,
    }
    official = by_id["usmle-step1-official"]
    assert (official["scale"], official["scale_min"], official["scale_max"]) == ("pass_fail", 0, 1)
    assert official["official"] and official["passing_score"] == 1
    assert by_id["usmle-step2ck-official"]["passing_score"] == 214
    assert {f["exam"] for f in forms} == {"step1", "step2ck"}


def test_the_admin_adds_edits_and_retires_a_form(world: World):
    admin = world.admin()
    r = world.client.post(
        PATH,
        json={
            "name": "Amboss Self-Assessment (Step 1)",
            "exam": "step1",
            "scale": "percent",
            "passing_score": 58,
            "default_target": 72,
        },
        headers=admin,
    )
    assert r.status_code == 201, r.get_json()
    form = r.get_json()
    assert form["id"] == "amboss-self-assessment-step-1"
    assert (form["scale_min"], form["scale_max"], form["active"]) == (0, 100, True)

    again = world.client.post(
        PATH,
        json={"name": "Amboss Self-Assessment (Step 1)", "exam": "step1", "scale": "percent"},
        headers=admin,
    )
    _problem(again, 409, "name")
    taken = world.client.post(
        PATH,
        json={"id": "uwsa-step1", "name": "Other", "exam": "step1", "scale": "percent"},
        headers=admin,
    )
    _problem(taken, 409, "id")

    r = world.client.put(f"{PATH}/{form['id']}", json={"passing_score": 62}, headers=admin)
    assert r.status_code == 200 and r.get_json()["passing_score"] == 62
    r = world.client.put(f"{PATH}/{form['id']}", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.get_json()["active"] is False
    public = world.client.get("/api/assessment-forms", headers=world.student()).get_json()
    assert form["id"] not in {f["id"] for f in public}
    everything = world.client.get(PATH, headers=admin).get_json()
    assert form["id"] in {f["id"] for f in everything}
    assert world.client.put(f"{PATH}/no-such-form", json={}, headers=admin).status_code == 404


def test_marks_outside_the_scale_are_refused_naming_the_field(world: World):
    admin = world.admin()
    before = world.client.get(PATH, headers=admin).get_json()
    base = {"name": "Odd form", "exam": "step2ck", "scale": "three_digit"}
    cases = [
        ({"passing_score": 400}, "passing_score"),
        ({"passing_score": 0}, "passing_score"),
        ({"default_target": 301}, "default_target"),
        ({"scale_min": 300, "scale_max": 200}, "scale_max"),
        ({"scale": "pass_fail", "scale_max": 2}, "scale_max"),
        ({"scale": "pass_fail", "passing_score": 0.5}, "passing_score"),
        ({"id": "Not A Slug"}, "id"),
        ({"name": "   "}, "name"),
    ]
    for changes, field in cases:
        r = world.client.post(PATH, json={**base, **changes}, headers=admin)
        _problem(r, 422, field)
    r = world.client.put(f"{PATH}/uwsa-step1", json={"default_target": 101}, headers=admin)
    _problem(r, 422, "default_target")
    assert world.client.get(PATH, headers=admin).get_json() == before


def test_a_range_stays_within_its_scale_and_messages_read_as_sentences(world: World):
    admin = world.admin()
    before = world.client.get(PATH, headers=admin).get_json()
    cases = [
        ({"scale": "percent", "scale_max": 300}, "scale_max", "percent form lies within 0-100"),
        ({"scale": "three_digit", "scale_min": 0}, "scale_min", "within 1-300"),
        ({"scale": "three_digit", "scale_max": 301}, "scale_max", "within 1-300"),
        ({"scale": "pass_fail", "scale_max": 0.5}, "scale_max", "0 (fail) to 1 (pass)"),
        ({"scale": "percent", "default_target": -5}, "default_target", "The usual target is a"),
        ({"scale": "percent", "name": "x" * 201}, "name", "1 to 200 characters"),
    ]
    for changes, field, words in cases:
        body = {"name": "Odd form", "exam": "step1", **changes}
        r = world.client.post(PATH, json=body, headers=admin)
        problem = _problem(r, 422, field)
        assert words in " ".join(problem["errors"][field]), problem
        assert "Must be" not in str(problem) and "Length must" not in str(problem)
    r = world.client.put(f"{PATH}/uwsa-step1", json={"scale_max": 300}, headers=admin)
    _problem(r, 422, "scale_max")
    assert world.client.get(PATH, headers=admin).get_json() == before


def test_only_admins_keep_the_catalogue(world: World):
    tutor = world.tutor()
    for headers in (world.student(), tutor):
        assert world.client.get(PATH, headers=headers).status_code == 403
        r = world.client.post(
            PATH, json={"name": "X", "exam": "step1", "scale": "percent"}, headers=headers
        )
        assert r.status_code == 403
        r = world.client.put(f"{PATH}/uwsa-step1", json={"active": False}, headers=headers)
        assert r.status_code == 403


def test_a_form_with_results_keeps_its_scale(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id)
    assert record(world, student, plan["id"], form_id="uwsa-step1", score=64).status_code == 201
    admin = world.admin()
    r = world.client.put(f"{PATH}/uwsa-step1", json={"scale": "three_digit"}, headers=admin)
    _problem(r, 409, "scale")
    r = world.client.put(f"{PATH}/uwsa-step1", json={"scale_max": 90}, headers=admin)
    _problem(r, 409, "scale_max")
    r = world.client.put(f"{PATH}/uwsa-step1", json={"exam": "step2ck"}, headers=admin)
    _problem(r, 409, "exam")
    # The rest stays editable, and an unchanged scale is no change.
    r = world.client.put(
        f"{PATH}/uwsa-step1",
        json={"scale": "percent", "passing_score": 61, "name": "UWSA 1"},
        headers=admin,
    )
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["passing_score"], r.get_json()["name"]) == (61, "UWSA 1")
    # A form nobody used may change scale; its range follows the new scale.
    r = world.client.put(f"{PATH}/uwsa-step2ck", json={"scale": "percent"}, headers=admin)
    assert r.status_code == 422, r.get_json()  # 214 is no percent
    r = world.client.put(
        f"{PATH}/uwsa-step2ck",
        json={"scale": "percent", "passing_score": 60, "default_target": 70},
        headers=admin,
    )
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["scale_min"], r.get_json()["scale_max"]) == (0, 100)
