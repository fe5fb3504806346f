"""The testimonials API end to end through HTTP: submission (signed in or by request link),
consent, moderation, the wall, and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.testimonials import domain, tokens
from services.testimonials.tests.conftest import STORY, World

PROBLEM = "application/problem+json"


def problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_json())
    assert response.mimetype == PROBLEM
    return response.get_json()


# --- consent -------------------------------------------------------------------------------------


def test_a_testimonial_without_consent_never_appears_and_cannot_be_approved(world: World):
    ada = world.student()
    private = world.submitted(ada, consent=False, story="Honestly the " + STORY)
    assert private == {
        "id": private["id"],
        "status": "pending",
        "consent": False,
        "verified": False,
        "author_role": "student",
    }
    body = problem(world.staff("post", f"/{private['id']}/approve"), 409)
    assert body["type"] == "urn:preceptor:no-consent-to-publish"
    # Not after a rejection either, and it cannot be featured.
    assert (
        world.staff("post", f"/{private['id']}/reject", json={"reason": "spam"}).status_code == 200
    )
    problem(world.staff("post", f"/{private['id']}/approve"), 409)
    problem(world.staff("post", f"/{private['id']}/feature"), 409)
    # Nowhere public: not on the wall, not filtered by its program, not with a big limit.
    assert world.wall() == []
    assert world.wall("?program=tutoring&limit=200") == []
    # Marketing still reads it as private feedback, and the author sees where it stands.
    [row] = world.staff("get", "?status=rejected").get_json()
    assert (row["consent"], row["consent_text"], row["consented_at"]) == (False, None, None)
    [mine] = world.client.get("/api/testimonials/mine", headers=ada.headers).get_json()
    assert (mine["id"], mine["status"], mine["consent"]) == (private["id"], "rejected", False)
    assert world.svc.recorded("testimonial.approved") == []


def test_consent_records_the_text_shown_and_when(world: World):
    consent = world.client.get("/api/consent").get_json()
    assert consent == {"version": domain.CONSENT_VERSION, "text": domain.CONSENT_TEXT}
    ada = world.student()
    before = datetime.now(UTC)
    answer = world.submitted(ada)
    full = world.staff("get", f"/{answer['id']}").get_json()
    assert full["consent"] is True and full["consent_text"] == consent["text"]
    assert before <= datetime.fromisoformat(full["consented_at"]) <= datetime.now(UTC)
    assert full["email"] == ada.email and full["user_id"] == ada.user_id


# --- who may do what -----------------------------------------------------------------------------

STAFF_CALLS = [
    ("get", "", None),
    ("get", "/{id}", None),
    ("put", "/{id}", {"story": STORY + " Edited.", "note": "typo"}),
    ("post", "/{id}/approve", None),
    ("post", "/{id}/reject", {"reason": "spam"}),
    ("post", "/{id}/feature", None),
    ("post", "/{id}/unfeature", None),
    ("put", "/wall-order", {"ids": []}),
]


@pytest.mark.parametrize("roles", [("student",), ("tutor",)])
def test_only_marketing_and_admins_moderate(world: World, roles):
    testimonial = world.submitted(world.student())
    outsider = world.person(*roles)
    for method, path, body in STAFF_CALLS:
        url = "/api/admin/testimonials" + path.format(id=testimonial["id"])
        call = getattr(world.client, method)
        kwargs = {"json": body} if body is not None else {}
        assert problem(call(url, headers=outsider.headers, **kwargs), 403), url
        assert problem(call(url, **kwargs), 401), url
    full = world.staff("get", f"/{testimonial['id']}").get_json()
    assert (full["status"], full["edited"], full["featured"]) == ("pending", False, False)
    admin = world.person("admin", name="Root Admin")
    r = world.client.post(
        f"/api/admin/testimonials/{testimonial['id']}/approve", headers=admin.headers
    )
    assert r.status_code == 200 and r.get_json()["status"] == "approved"


def test_submitting_needs_a_token_or_a_request_link(world: World):
    body = problem(world.submit(None), 401)
    assert "request_token" in body["detail"]
    problem(world.client.get("/api/testimonials/mine"), 401)


def test_tutors_and_staff_are_labelled_as_such(world: World):
    world.approved(world.submitted(world.student())["id"])
    world.approved(world.submitted(world.person("tutor", name="Tess Tutor"))["id"])
    world.approved(world.submitted(world.person("marketing", name="Mara"))["id"])
    world.approved(world.submitted(world.person("admin", name="Root"))["id"])
    assert sorted(t["author_role"] for t in world.wall()) == ["staff", "staff", "student", "tutor"]


# --- request links -------------------------------------------------------------------------------


def asked(world: World, who=None) -> dict:
    who = who or world.student()
    world.publish(world.enrollment_event("enrollment.completed", who))
    return next(r for r in world.requested() if r["user_id"] == who.user_id)


def test_a_request_link_submits_without_signing_in_and_only_once(world: World):
    ada = world.student()
    request = asked(world, ada)
    r = world.client.get(f"/api/testimonial-requests/{request['token']}")
    assert r.status_code == 200, r.get_json()
    link = r.get_json()
    assert link == {
        "name": ada.name,
        "email": ada.email,
        "program": "course:usmle-step-1-prep",
        "program_label": "USMLE Step 1 Prep",
        "expires_at": link["expires_at"],
    }
    expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)

    answer = world.submitted(
        None, program="course:usmle-step-1-prep", request_token=request["token"]
    )
    assert (answer["verified"], answer["author_role"]) == (True, "student")
    [mine] = world.client.get("/api/testimonials/mine", headers=ada.headers).get_json()
    assert mine["id"] == answer["id"] and mine["program_label"] == "USMLE Step 1 Prep"
    # The link has done its job.
    problem(world.client.get(f"/api/testimonial-requests/{request['token']}"), 410)
    again = world.submit(None, program="course:usmle-step-1-prep", request_token=request["token"])
    assert "request_token" in problem(again, 410)["errors"]


def test_an_expired_request_link_is_gone(world: World):
    request = asked(world)
    old = (datetime.now(UTC) - timedelta(days=31)).timestamp()
    expired = tokens.request_token(request["request_id"], issued_at=old)
    problem(world.client.get(f"/api/testimonial-requests/{expired}"), 410)
    r = world.submit(None, program="course:usmle-step-1-prep", request_token=expired)
    assert "request_token" in problem(r, 410)["errors"]
    assert world.staff("get", "").get_json() == []


def test_a_tampered_request_link_is_not_found(world: World):
    request = asked(world)
    tampered = "f" + request["token"][1:]
    problem(world.client.get(f"/api/testimonial-requests/{tampered}"), 404)
    problem(world.client.get("/api/testimonial-requests/nonsense"), 404)
    r = world.submit(None, program="course:usmle-step-1-prep", request_token=tampered)
    assert "request_token" in problem(r, 422)["errors"]
    # A real link, but about another program than the form says.
    r = world.submit(None, program="tutoring", request_token=request["token"])
    assert "program" in problem(r, 422)["errors"]
    assert world.staff("get", "").get_json() == []


def test_a_request_link_sent_before_a_secret_key_rotation_works_until_the_fallback_goes(
    world: World, secret_key_rotation
):
    sent_before = asked(world)
    secret_key_rotation.rotate()
    sent_after = asked(world)

    assert world.client.get(f"/api/testimonial-requests/{sent_before['token']}").status_code == 200

    secret_key_rotation.drop_fallback()
    problem(world.client.get(f"/api/testimonial-requests/{sent_before['token']}"), 404)
    assert world.client.get(f"/api/testimonial-requests/{sent_after['token']}").status_code == 200
    answer = world.submitted(
        None, program="course:usmle-step-1-prep", request_token=sent_after["token"]
    )
    assert answer["verified"] is True


# --- moderation ----------------------------------------------------------------------------------


def test_approve_reject_take_down_and_reconsider_record_their_events(world: World):
    ada = world.student()
    t = world.submitted(ada)
    approved = world.approved(t["id"])
    assert approved["status"] == "approved" and approved["approved_at"]
    problem(world.staff("post", f"/{t['id']}/approve"), 409)
    [event] = world.svc.recorded("testimonial.approved")
    assert event == {
        "testimonial_id": t["id"],
        "user_id": ada.user_id,
        "email": ada.email,
        "display_name": "Ada L.",
        "program": "tutoring",
        "program_label": "1:1 tutoring",
        "verified": False,
    }
    assert [w["id"] for w in world.wall()] == [t["id"]]

    down = world.staff(
        "post", f"/{t['id']}/reject", json={"reason": "author_request", "note": "Asked by email"}
    )
    assert down.status_code == 200
    assert (down.get_json()["status"], down.get_json()["rejection_reason"]) == (
        "rejected",
        "author_request",
    )
    assert down.get_json()["rejection_note"] == "Asked by email"
    assert world.wall() == []
    assert world.svc.recorded("testimonial.rejected") == [
        {"testimonial_id": t["id"], "user_id": ada.user_id, "reason": "author_request"}
    ]
    world.approved(t["id"])
    assert [w["id"] for w in world.wall()] == [t["id"]]


def test_a_rejection_needs_a_listed_reason_and_the_rating_is_not_one(world: World):
    t = world.submitted(world.student(), rating=1)
    for reason in ("low_rating", "rating", "negative"):
        body = problem(world.staff("post", f"/{t['id']}/reject", json={"reason": reason}), 422)
        assert "reason" in body["errors"]
    assert "reason" in problem(world.staff("post", f"/{t['id']}/reject", json={}), 422)["errors"]
    # A one-star story is approved like any other.
    assert world.approved(t["id"])["rating"] == 1
    assert [w["rating"] for w in world.wall()] == [1]


def test_an_edit_keeps_the_original_and_the_revision(world: World):
    t = world.submitted(world.student(), display_name="Ada Lovelace", story="Teh " + STORY)
    r = world.staff("put", f"/{t['id']}", json={"story": "The " + STORY, "note": "Fixed a typo"})
    assert r.status_code == 200, r.get_json()
    r = world.staff(
        "put", f"/{t['id']}", json={"display_name": "Ada L.", "note": "Surname, as asked"}
    )
    detail = r.get_json()
    assert (detail["display_name"], detail["story"], detail["edited"]) == (
        "Ada L.",
        "The " + STORY,
        True,
    )
    assert detail["original"] == {"display_name": "Ada Lovelace", "story": "Teh " + STORY}
    first, second = detail["revisions"]
    assert first["before"] == {"display_name": "Ada Lovelace", "story": "Teh " + STORY}
    assert first["after"] == {"display_name": "Ada Lovelace", "story": "The " + STORY}
    assert (first["note"], first["editor_name"]) == ("Fixed a typo", "Mara Marketing")
    assert second["after"]["display_name"] == "Ada L." and second["note"] == "Surname, as asked"
    assert world.staff("get", f"/{t['id']}").get_json() == detail
    # Edit needs a note and a change.
    assert (
        "note" in problem(world.staff("put", f"/{t['id']}", json={"story": STORY}), 422)["errors"]
    )
    same = world.staff("put", f"/{t['id']}", json={"story": "The " + STORY, "note": "again"})
    assert "story" in problem(same, 422)["errors"]
    problem(world.staff("put", "/no-such-id", json={"story": STORY, "note": "x"}), 404)


def test_the_wall_is_featured_first_then_marketing_order_then_newest(world: World):
    ids = [world.submitted(world.student(f"Student {i}"))["id"] for i in range(4)]
    for t in ids:
        world.approved(t)
    newest_first = list(reversed(ids))
    assert [w["id"] for w in world.wall()] == newest_first

    featured = world.staff("post", f"/{ids[0]}/feature")
    assert featured.status_code == 200 and featured.get_json()["featured"] is True
    assert [w["id"] for w in world.wall()] == [ids[0], ids[3], ids[2], ids[1]]
    assert world.svc.recorded("testimonial.featured") == [
        {"testimonial_id": ids[0], "featured": True}
    ]

    r = world.staff("put", "/wall-order", json={"ids": [ids[1], ids[2]]})
    assert r.status_code == 200, r.get_json()
    assert [w["id"] for w in r.get_json()] == [ids[0], ids[1], ids[2], ids[3]]
    assert [w["id"] for w in world.wall()] == [ids[0], ids[1], ids[2], ids[3]]
    assert [w["id"] for w in world.wall("?limit=2")] == [ids[0], ids[1]]

    # Unfeatured, it keeps the place the order gave it: after the two listed, before the rest.
    world.staff("post", f"/{ids[0]}/unfeature")
    assert [w["id"] for w in world.wall()] == [ids[1], ids[2], ids[0], ids[3]]
    assert world.svc.recorded("testimonial.featured")[-1] == {
        "testimonial_id": ids[0],
        "featured": False,
    }

    pending = world.submitted(world.student())["id"]
    problem(world.staff("post", f"/{pending}/feature"), 409)
    assert (
        "ids" in problem(world.staff("put", "/wall-order", json={"ids": [pending]}), 422)["errors"]
    )
    assert (
        "ids"
        in problem(world.staff("put", "/wall-order", json={"ids": [ids[1], ids[1]]}), 422)["errors"]
    )


def test_the_wall_filters_by_program_and_shows_only_public_fields(world: World):
    ada = world.student()
    world.publish(world.enrollment_event("enrollment.activated", ada))
    course = world.submitted(ada, program="course:usmle-step-1-prep")["id"]
    tutoring = world.submitted(ada, program="tutoring")["id"]
    world.approved(course)
    world.approved(tutoring)
    [item] = world.wall("?program=course:usmle-step-1-prep")
    assert set(item) == {
        "id",
        "display_name",
        "program",
        "program_label",
        "story",
        "rating",
        "verified",
        "author_role",
        "featured",
        "approved_at",
    }
    assert (item["id"], item["program_label"], item["verified"]) == (
        course,
        "USMLE Step 1 Prep",
        True,
    )
    assert [w["id"] for w in world.wall("?program=tutoring")] == [tutoring]
    assert (
        "program" in problem(world.client.get("/api/testimonials?program=nursing"), 422)["errors"]
    )
    assert "limit" in problem(world.client.get("/api/testimonials?limit=0"), 422)["errors"]


def test_moderation_queue_lists_by_status_newest_first(world: World):
    a, b, c = (world.submitted(world.student())["id"] for _ in range(3))
    world.approved(b)
    assert [t["id"] for t in world.staff("get", "").get_json()] == [c, b, a]
    assert [t["id"] for t in world.staff("get", "?status=pending").get_json()] == [c, a]
    assert [t["id"] for t in world.staff("get", "?status=approved&limit=5").get_json()] == [b]
    assert "status" in problem(world.staff("get", "?status=hidden"), 422)["errors"]
    problem(world.staff("get", "/no-such-id"), 404)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"story": "Too short."}, "story"),
        ({"story": "x" * 2001}, "story"),
        ({"story": " " * 25}, "story"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"program": "nursing"}, "program"),
        ({"program": "course:no-such-course"}, "program"),
        ({"consent": None}, "consent"),
        ({"extra": "field"}, "extra"),
    ],
)
def test_bad_submissions_are_refused_naming_the_field(world: World, changes, field):
    body = problem(world.submit(world.student(), **changes), 422)
    assert field in body["errors"], body
    assert world.staff("get", "").get_json() == []


def test_a_submission_without_consent_field_is_refused(world: World):
    r = world.client.post(
        "/api/testimonials",
        json={"display_name": "Ada", "program": "tutoring", "story": STORY, "rating": 4},
        headers=world.student().headers,
    )
    assert "consent" in problem(r, 422)["errors"]
