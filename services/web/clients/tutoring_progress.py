"""The tutoring API's assessment → plan loop (issue 12), as the site calls it.

A mixin of ``TutoringClient`` (``tutoring_client.py``), kept apart because the loop is a
subject of its own: results and progress, day checks and their signed email links, plan
proposals, reflections and the admin's assessment forms. Every call is made as the signed-in user except the two signed-link
calls, whose secret is the link's token.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote


class _Caller(Protocol):
    def call(
        self, method: str, path: str, *, json: Any = None, token: str | None = None
    ) -> Any: ...


def _segment(value: str) -> str:
    """A value as one URL path segment, so it can never reach another endpoint."""
    return quote(str(value), safe="")


def _plan(plan_id: str) -> str:
    return f"/api/plans/{_segment(plan_id)}"


class ProgressCalls:
    """Tutoring endpoints for results, progress, checks, proposals, reflections and forms."""

    # ------------------------------------------------------------------ assessment forms

    def assessment_forms(self: _Caller, token: str) -> list[dict]:
        """The active forms a result can be recorded against."""
        return self.call("GET", "/api/assessment-forms", token=token)

    def admin_assessment_forms(self: _Caller, token: str) -> list[dict]:
        """Every form, inactive ones too (admin)."""
        return self.call("GET", "/api/admin/assessment-forms", token=token)

    def create_assessment_form(self: _Caller, token: str, fields: dict[str, Any]) -> dict:
        return self.call("POST", "/api/admin/assessment-forms", json=fields, token=token)

    def update_assessment_form(
        self: _Caller, token: str, form_id: str, fields: dict[str, Any]
    ) -> dict:
        """A partial update: only the fields given change."""
        path = f"/api/admin/assessment-forms/{_segment(form_id)}"
        return self.call("PUT", path, json=fields, token=token)

    # ------------------------------------------------------------------ results and progress

    def record_result(self: _Caller, token: str, plan_id: str, result: dict[str, Any]) -> dict:
        return self.call("POST", f"{_plan(plan_id)}/results", json=result, token=token)

    def delete_result(self: _Caller, token: str, plan_id: str, result_id: str) -> None:
        path = f"{_plan(plan_id)}/results/{_segment(result_id)}"
        self.call("DELETE", path, token=token)

    def set_target(self: _Caller, token: str, plan_id: str, scale: str, score: float) -> dict:
        body = {"scale": scale, "score": score}
        return self.call("PUT", f"{_plan(plan_id)}/targets", json=body, token=token)

    def progress(self: _Caller, token: str, plan_id: str) -> dict:
        """Series per scale with the estimate, per-area first/latest, readiness, adherence."""
        return self.call("GET", f"{_plan(plan_id)}/progress", token=token)

    def tutoring_plans(self: _Caller, token: str) -> list[dict]:
        """One row per plan of the tutor's students, for the dashboard."""
        return self.call("GET", "/api/plans/tutoring", token=token)

    # ------------------------------------------------------------------ day checks

    def checks(self: _Caller, token: str, plan_id: str) -> list[dict]:
        return self.call("GET", f"{_plan(plan_id)}/checks", token=token)

    def check_day(self: _Caller, token: str, plan_id: str, day: str, status: str) -> dict:
        path = f"{_plan(plan_id)}/days/{_segment(day)}/check"
        return self.call("PUT", path, json={"status": status}, token=token)

    def clear_check(self: _Caller, token: str, plan_id: str, day: str) -> None:
        self.call("DELETE", f"{_plan(plan_id)}/days/{_segment(day)}/check", token=token)

    def plan_check(self: _Caller, link_token: str) -> dict:
        """What a signed email link would record, changing nothing (404 bad, 410 expired)."""
        return self.call("GET", f"/api/plan-checks/{_segment(link_token)}")

    def record_plan_check(self: _Caller, link_token: str) -> dict:
        """Record what a signed email link says; the token is the only credential."""
        return self.call("POST", "/api/plan-checks", json={"token": link_token})

    # ------------------------------------------------------------------ proposals

    def proposals(self: _Caller, token: str, plan_id: str) -> list[dict]:
        """Newest first."""
        return self.call("GET", f"{_plan(plan_id)}/proposals", token=token)

    def propose(self: _Caller, token: str, plan_id: str, kind: str = "rebalance") -> dict:
        return self.call("POST", f"{_plan(plan_id)}/proposals", json={"kind": kind}, token=token)

    def decide_proposal(
        self: _Caller, token: str, plan_id: str, proposal_id: str, decision: str
    ) -> dict:
        """``accept`` (answers the new plan) or ``decline`` (answers the proposal)."""
        path = f"{_plan(plan_id)}/proposals/{_segment(proposal_id)}/{_segment(decision)}"
        return self.call("POST", path, json={}, token=token)

    # ------------------------------------------------------------------ reflections

    def save_reflection(
        self: _Caller, token: str, consultation_id: str, answers: dict[str, str]
    ) -> dict:
        path = f"/api/consultations/{_segment(consultation_id)}/reflection"
        return self.call("PUT", path, json=answers, token=token)
