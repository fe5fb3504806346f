"""The tutoring contract's assessment → plan endpoints (issue 12), for the site's tests only.

Part of ``TutoringContract`` (contracts/tutoring.py calls ``progress_routes`` and
``reset_progress``); kept apart so neither file grows past reading. Canned answers shaped like
the spec's JSON, problem+json 422s naming the field, and just enough state (results, checks,
proposals, forms, reflections) for a page's POST to show up in the next GET. No business rules:
the estimate, readiness and rebalancing are the tutoring service's, tested there.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Flask, Response, jsonify, request

PLAN_ID = "plan-1"
STUDENT_ID, TUTOR_ID = "user-student", "user-tutor"
PLAN_AREAS = ("renal", "anatomy", "hematology-oncology")
NBME = "NBME Comprehensive Basic Science Self-Assessment"
UWSA = "UWorld Self-Assessment Step 1"

ESTIMATE_METHOD = "A straight line through your results, carried forward to exam day."
LIMITS = (
    "It is only a rough guide: a straight line drawn through few points, gains usually flatten "
    "near the top, and forms differ in difficulty."
)

FORMS = [
    {"id": "nbme-cbssa", "name": NBME, "exam": "step1", "scale": "percent", "scale_min": 0,
     "scale_max": 100, "passing_score": 60, "default_target": 70, "official": False, "active": True},
    {"id": "uwsa-step1", "name": UWSA, "exam": "step1", "scale": "percent", "scale_min": 0,
     "scale_max": 100, "passing_score": 60, "default_target": 70, "official": False, "active": True},
    {"id": "free-120-step1", "name": "Free 120 official practice questions Step 1", "exam": "step1",
     "scale": "percent", "scale_min": 0, "scale_max": 100, "passing_score": 60,
     "default_target": 70, "official": False, "active": False},
    {"id": "nbme-ccssa", "name": "NBME Comprehensive Clinical Science Self-Assessment",
     "exam": "step2ck", "scale": "three_digit", "scale_min": 1, "scale_max": 300,
     "passing_score": 214, "default_target": 245, "official": False, "active": True},
    {"id": "usmle-step1-official", "name": "USMLE Step 1 (official attempt)", "exam": "step1",
     "scale": "pass_fail", "scale_min": 0, "scale_max": 1, "passing_score": 1,
     "default_target": None, "official": True, "active": True},
]  # fmt: skip


def _result(result_id: str, form_id: str, taken_on: str, score: float, **extra: Any) -> dict:
    form = next(f for f in FORMS if f["id"] == form_id)
    return {
        "id": result_id,
        "plan_id": PLAN_ID,
        "form_id": form_id,
        "form_name": form["name"],
        "scale": form["scale"],
        "taken_on": taken_on,
        "score": score,
        "score_text": f"{score:g}",
        "area_scores": extra.get("area_scores") or {},
        "note": extra.get("note") or "",
        "official": form["official"],
        "passing_score": form["passing_score"],
        "recorded_role": extra.get("recorded_role", "student"),
        "created_at": f"{taken_on}T18:00:00+00:00",
        "below_passing": form["passing_score"] is not None and score < form["passing_score"],
    }


def _proposal(proposal_id: str, status: str, **extra: Any) -> dict:
    return {
        "id": proposal_id,
        "plan_id": PLAN_ID,
        "kind": "rebalance",
        "status": status,
        "base_version": 1,
        "fits": True,
        "message": "Renal +2.5 h, Anatomy -2.5 h from tomorrow.",
        "hours_before": {"renal": 10.0, "anatomy": 8.0, "hematology-oncology": 4.0},
        "hours_after": {"renal": 12.5, "anatomy": 5.5, "hematology-oncology": 4.0},
        "suggested_exam_date": None,
        "proposed_role": "student",
        "accepter_role": "tutor",
        "created_at": "2026-03-02T09:15:00+00:00",
        "decided_at": None if status == "proposed" else "2026-03-02T12:00:00+00:00",
        "days": [],
        **extra,
    }


def reset_progress(server: Any) -> None:
    server.forms = [dict(f) for f in FORMS]
    server.results = [
        _result("res-0", "usmle-step1-official", "2025-11-20", 0),
        _result("res-1", "nbme-cbssa", "2026-01-05", 52,
                area_scores={"renal": 48, "anatomy": 70}),
        _result("res-2", "uwsa-step1", "2026-02-02", 57, recorded_role="tutor"),
        _result("res-3", "nbme-cbssa", "2026-03-01", 58.5,
                area_scores={"renal": 61, "anatomy": 66}, note="Ran out of time\nin block 3"),
    ]  # fmt: skip
    server.checks = {
        "2026-03-05": {"day": "2026-03-05", "status": "done", "planned_hours": 3.0,
                       "checked_at": "2026-03-05T21:00:00+00:00"},
    }  # fmt: skip
    server.proposals = [
        _proposal("prop-open", "proposed"),
        _proposal("prop-old", "declined", created_at="2026-02-20T09:00:00+00:00"),
    ]
    server.consultations["con-booked"]["reflection_asked"] = True


def _progress(server: Any) -> dict:
    results = sorted(server.results, key=lambda r: r["taken_on"])
    series = []
    for scale, low, high, passing, target in (
        ("percent", 0, 100, 60, 70),
        ("pass_fail", 0, 1, 1, None),
    ):
        points = [
            {"taken_on": r["taken_on"], "score": r["score"], "form_name": r["form_name"],
             "result_id": r["id"]}
            for r in results
            if r["scale"] == scale
        ]  # fmt: skip
        dates = {p["taken_on"] for p in points}
        estimate = None
        if scale == "percent" and len(dates) >= 2:
            estimate = {"on": "2026-03-10", "score": 60.2, "per_week": 0.8,
                        "points": len(points), "method": ESTIMATE_METHOD}  # fmt: skip
        if points:
            series.append({"scale": scale, "low": low, "high": high, "passing_score": passing,
                           "target": target, "points": points, "estimate": estimate})  # fmt: skip
    return {
        "plan_id": PLAN_ID, "student_id": STUDENT_ID, "student_name": "Sam Student",
        "tutor_id": TUTOR_ID, "tutor_name": "Tom Tutor", "exam": "step1",
        "exam_date": "2026-03-10", "version": 1, "today": "2026-03-06", "series": series,
        "areas": [
            {"area": "renal", "first": 48, "latest": 61, "first_on": "2026-01-05",
             "latest_on": "2026-03-01"},
            {"area": "anatomy", "first": 70, "latest": 66, "first_on": "2026-01-05",
             "latest_on": "2026-03-01"},
        ],
        "results": results,
        "missing_checkpoints": ["2026-03-08"],
        "readiness": {
            "warning": True, "weeks_left": 1, "later_exam_date": "2026-05-18",
            "latest": [
                {"form_name": NBME, "scale": "percent", "score": 58.5, "passing_score": 60,
                 "taken_on": "2026-03-01"},
                {"form_name": UWSA, "scale": "percent", "score": 57, "passing_score": 60,
                 "taken_on": "2026-02-02"},
            ],
        },
        "adherence": {"since": "2026-03-03", "planned_hours": 12.0, "done_hours": 3.0,
                      "partial_hours": 1.25, "missed_hours": 2.5, "unchecked_days": 1,
                      "partial_days": 0, "unchecked_hours": 6.5},
        "estimate_method": LIMITS,
        "reset_advised": getattr(server, "reset_advised", None),
    }  # fmt: skip


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def progress_routes(server: Any, app: Flask, problem: Any, plan: Any) -> None:
    """Register the endpoints on the tutoring stand-in (``problem`` and the plan's days come
    from contracts/tutoring.py, which imports this module)."""

    def invalid(errors: dict[str, list[str]]) -> Response:
        return problem(422, "Invalid fields: " + ", ".join(sorted(errors)), errors)

    def caller() -> tuple[dict | None, Response | None]:
        user = server._bearer_user()
        return (None, problem(401, "Send an access token.")) if user is None else (user, None)

    def on_plan(plan_id: str) -> tuple[dict | None, Response | None]:
        """The plan's student, its tutor or an admin; 404 unknown, 403 anyone else."""
        user, refusal = caller()
        if refusal:
            return None, refusal
        if plan_id != PLAN_ID:
            return None, problem(404, "No such plan.")
        if user["id"] not in (STUDENT_ID, TUTOR_ID) and "admin" not in user["roles"]:
            return None, problem(403, "This plan belongs to someone else.")
        return user, None

    def admin() -> Response | None:
        user, refusal = caller()
        if refusal:
            return refusal
        return None if "admin" in user["roles"] else problem(403, "This needs the role admin.")

    def role(user: dict) -> str:
        return "tutor" if user["id"] == TUTOR_ID else "student"

    def shown(proposal: dict, user: dict) -> dict:
        return {**proposal, "can_accept": role(user) == proposal["accepter_role"]}

    # -------------------------------------------------------------- assessment forms

    @app.get("/api/assessment-forms")
    def active_forms():
        _, refusal = caller()
        return refusal or jsonify([f for f in server.forms if f["active"]])

    @app.get("/api/admin/assessment-forms")
    def all_forms():
        return admin() or jsonify(server.forms)

    def form_errors(record: dict) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        low, high = record.get("scale_min"), record.get("scale_max")
        for name in ("passing_score", "default_target"):
            value = record.get(name)
            known = None not in (value, low, high)
            if known and not low <= value <= high:
                errors[name] = [f"Must be within the scale, {low:g} to {high:g}."]
        if not record.get("name"):
            errors["name"] = ["Enter a name."]
        return errors

    @app.post("/api/admin/assessment-forms")
    def create_form():
        if refusal := admin():
            return refusal
        body = request.get_json()
        record = {"official": False, "active": True, **body}
        record["id"] = body.get("id") or _slug(body.get("name", ""))
        if errors := form_errors(record):
            return invalid(errors)
        server.forms.append(record)
        return jsonify(record), 201

    @app.put("/api/admin/assessment-forms/<form_id>")
    def update_form(form_id: str):
        if refusal := admin():
            return refusal
        record = next((f for f in server.forms if f["id"] == form_id), None)
        if record is None:
            return problem(404, "No such assessment form.")
        body = request.get_json()
        used = any(r["form_id"] == form_id for r in server.results)
        if used and "scale" in body and body["scale"] != record["scale"]:
            return problem(409, "Results are recorded on this form; its scale can't change.")
        changed = {**record, **body}
        if errors := form_errors(changed):
            return invalid(errors)
        record.update(body)
        return jsonify(record)

    # -------------------------------------------------------------- results and progress

    @app.get("/api/plans/<plan_id>/progress")
    def progress(plan_id: str):
        _, refusal = on_plan(plan_id)
        return refusal or jsonify(_progress(server))

    @app.get("/api/plans/<plan_id>/results")
    def results(plan_id: str):
        _, refusal = on_plan(plan_id)
        return refusal or jsonify(sorted(server.results, key=lambda r: r["taken_on"]))

    @app.post("/api/plans/<plan_id>/results")
    def record_result(plan_id: str):
        user, refusal = on_plan(plan_id)
        if refusal:
            return refusal
        body = request.get_json()
        errors: dict[str, list[str]] = {}
        form = next((f for f in server.forms if f["id"] == body.get("form_id")), None)
        if form is None or not form["active"]:
            errors["form_id"] = ["Choose an active assessment form."]
        elif form["exam"] != "step1":
            errors["form_id"] = ["This form is for another exam than your plan (USMLE Step 1)."]
        elif not form["scale_min"] <= body.get("score", -1) <= form["scale_max"]:
            low, high = form["scale_min"], form["scale_max"]
            errors["score"] = [f"Enter a score from {low:g} to {high:g} for this form."]
        if str(body.get("taken_on", "")) > date.today().isoformat():
            errors["taken_on"] = ["The date can't be in the future."]
        for area, value in (body.get("area_scores") or {}).items():
            if area not in PLAN_AREAS:
                errors["area_scores"] = [f"“{area}” is not an area of this plan."]
            elif not 0 <= value <= 100:
                errors["area_scores"] = [f"{area.capitalize()}: enter a percent from 0 to 100."]
        if errors:
            return invalid(errors)
        record = _result(
            f"res-{len(server.results)}",
            body["form_id"],
            body["taken_on"],
            body["score"],
            area_scores=body.get("area_scores"),
            note=body.get("note"),
            recorded_role=role(user),
        )
        server.results.append(record)
        return jsonify(record), 201

    @app.delete("/api/plans/<plan_id>/results/<result_id>")
    def delete_result(plan_id: str, result_id: str):
        user, refusal = on_plan(plan_id)
        if refusal:
            return refusal
        record = next((r for r in server.results if r["id"] == result_id), None)
        if record is None:
            return problem(404, "No such result.")
        if role(user) == "student" and record["recorded_role"] != "student":
            return problem(403, "Only who recorded a result, or the tutor, can delete it.")
        server.results.remove(record)
        return Response(status=204)

    @app.put("/api/plans/<plan_id>/targets")
    def targets(plan_id: str):
        _, refusal = on_plan(plan_id)
        if refusal:
            return refusal
        body = request.get_json()
        score = body.get("score")
        if body.get("scale") == "percent" and score is not None and not 0 <= score <= 100:
            return invalid({"score": ["Enter a target from 0 to 100."]})
        return jsonify(_progress(server))

    @app.get("/api/plans/tutoring")
    def tutoring_plans():
        user, refusal = caller()
        if refusal:
            return refusal
        if "tutor" not in user["roles"]:
            return problem(403, "This needs the role tutor.")
        latest = server.results[-1]
        return jsonify(
            [
                {"plan_id": PLAN_ID, "student_id": STUDENT_ID, "student_name": "Sam Student",
                 "exam": "step1", "exam_date": "2026-03-10", "version": 1,
                 "missing_checkpoints": ["2026-03-08"], "readiness_warning": True,
                 "open_proposals": 1, "latest_result": latest, "missed_hours_7d": 2.5,
                 "reset_advised": getattr(server, "reset_advised", None),
                 "needs_attention": True},
            ]
            if user["id"] == TUTOR_ID
            else []
        )  # fmt: skip

    # -------------------------------------------------------------- day checks

    @app.get("/api/plans/<plan_id>/checks")
    def checks(plan_id: str):
        _, refusal = on_plan(plan_id)
        return refusal or jsonify(sorted(server.checks.values(), key=lambda c: c["day"]))

    @app.route("/api/plans/<plan_id>/days/<day>/check", methods=["PUT", "DELETE"])
    def check(plan_id: str, day: str):
        user, refusal = on_plan(plan_id)
        if refusal:
            return refusal
        if user["id"] != STUDENT_ID:
            return problem(403, "Only the student checks their days.")
        if request.method == "DELETE":
            server.checks.pop(day, None)
            return Response(status=204)
        entry = next((d for d in plan()["days"] if d["day"] == day), None)
        if entry is None:
            return invalid({"day": ["That day is not in your plan."]})
        if entry["kind"] in ("free", "rest", "exam"):
            return invalid({"day": ["A free, rest or exam day has nothing to check."]})
        if day > date.today().isoformat():
            return invalid({"day": ["A day in the future can't be checked yet."]})
        status = request.get_json().get("status")
        if status not in ("done", "partial", "missed"):
            return invalid({"status": ["Choose done, partial or missed."]})
        hours = sum(b["hours"] for b in entry["blocks"])
        server.checks[day] = {"day": day, "status": status, "planned_hours": hours,
                              "checked_at": "2026-03-06T08:00:00+00:00"}  # fmt: skip
        return jsonify({"day": day, "status": status, "planned_hours": hours})

    LINKS = {"link-done": ("2026-03-06", "done"), "link-missed": ("2026-03-09", "missed")}

    def link(token: str) -> tuple[dict | None, Response | None]:
        if token == "link-expired":
            return None, problem(410, "This link has expired.")
        if token == "link-late":
            errors = {"day": ["Fri 6 Mar is more than two weeks ago; it can't be checked now."]}
            return None, problem(422, "Invalid fields: day", errors)
        if token not in LINKS:
            return None, problem(404, "This link is not valid.")
        day, status = LINKS[token]
        current = (server.checks.get(day) or {}).get("status")
        answer = {"plan_id": PLAN_ID, "day": day, "status": status, "student_name": "Sam Student"}
        return {**answer, "current_status": current}, None

    @app.get("/api/plan-checks/<token>")
    def peek_link(token: str):
        answer, refusal = link(token)
        return refusal or jsonify(answer)

    @app.post("/api/plan-checks")
    def use_link():
        answer, refusal = link(str((request.get_json() or {}).get("token", "")))
        if refusal:
            return refusal
        server.checks[answer["day"]] = {"day": answer["day"], "status": answer["status"],
                                         "planned_hours": 2.5, "checked_at": None}  # fmt: skip
        return jsonify(answer)

    # -------------------------------------------------------------- proposals

    @app.get("/api/plans/<plan_id>/proposals")
    def proposals(plan_id: str):
        user, refusal = on_plan(plan_id)
        return refusal or jsonify([shown(p, user) for p in server.proposals])

    @app.post("/api/plans/<plan_id>/proposals")
    def propose(plan_id: str):
        user, refusal = on_plan(plan_id)
        if refusal:
            return refusal
        if request.get_json().get("kind") != "rebalance":
            return invalid({"kind": ["Only a rebalance can be asked for."]})
        if not any(r["area_scores"] for r in server.results):
            return invalid({"kind": ["Record a result with per-area scores first."]})
        for p in server.proposals:
            if p["status"] == "proposed" and p["kind"] == "rebalance":
                p["status"] = "superseded"
        record = _proposal("prop-new", "proposed", proposed_role=role(user),
                           created_at="2026-03-06T09:00:00+00:00")  # fmt: skip
        server.proposals.insert(0, record)
        return jsonify(shown(record, user)), 201

    @app.post("/api/plans/<plan_id>/proposals/<proposal_id>/<decision>")
    def decide(plan_id: str, proposal_id: str, decision: str):
        user, refusal = on_plan(plan_id)
        if refusal:
            return refusal
        record = next((p for p in server.proposals if p["id"] == proposal_id), None)
        if record is None or decision not in ("accept", "decline"):
            return problem(404, "No such proposal.")
        if record["status"] != "proposed":
            return problem(409, "This proposal is no longer open.")
        if decision == "decline":  # the student or the tutor
            record["status"] = "declined"
            return jsonify(shown(record, user))
        if role(user) != record["accepter_role"]:
            return problem(403, "Only the tutor accepts this proposal.")
        if decision == "decline":
            record["status"] = "declined"
            return jsonify(shown(record, user))
        if proposal_id == "prop-stale":
            return problem(409, "The plan changed since; propose again.")
        record["status"] = "accepted"
        return jsonify(plan(2))

    # -------------------------------------------------------------- reflections

    @app.put("/api/consultations/<consultation_id>/reflection")
    def reflection(consultation_id: str):
        record, refusal = server._visible(consultation_id)
        if refusal:
            return refusal
        if server._bearer_user()["id"] != record["student_id"]:
            return problem(403, "Only the student writes their reflection.")
        if record["status"] != "booked":
            return problem(409, "The consultation is over; the reflection can't change.")
        body = request.get_json()
        too_long = {k: ["Keep it under 2000 characters."] for k, v in body.items() if len(v) > 2000}
        if too_long:
            return invalid(too_long)
        record["reflection"] = {**body, "updated_at": "2026-03-01T10:00:00+00:00"}
        return jsonify(record)
