"""One item a listing page cannot render is left out (and logged), never a 500 for the page."""

from __future__ import annotations

from services.web.tests.contracts.enrollment import COURSES, CYCLES
from services.web.tests.contracts.tutoring import TUTORS


def test_the_catalogue_leaves_out_a_course_it_cannot_render(client, enrollment_api, caplog):
    good = [{**course, "next_cycles": CYCLES[slug]} for slug, course in COURSES.items()]
    bad = {"slug": "bad-course", "title": "A Broken Course"}  # no cycle length, no price
    enrollment_api.answer("GET", "/api/courses", 200, [bad, *good])

    response = client.get("/courses")

    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:300]
    assert "A Broken Course" not in html
    assert all(course["title"] in html for course in COURSES.values())
    assert any(getattr(r, "row", None) == "bad-course" for r in caplog.records), [
        (r.getMessage(), r.__dict__.get("row")) for r in caplog.records
    ]


def test_the_tutor_list_leaves_out_a_tutor_it_cannot_render(client, tutoring_api):
    bad = {**next(iter(TUTORS.values())), "id": "bad-tutor", "name": "Broken", "exams": 5}
    tutoring_api.answer("GET", "/api/tutors", 200, [bad, *TUTORS.values()])

    response = client.get("/tutoring")

    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:300]
    assert "Broken" not in html
    assert all(tutor["name"] in html for tutor in TUTORS.values())
