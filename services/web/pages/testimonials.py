"""Student stories: the public wall, the form to leave one, and the widget other sites embed.

The testimonials service decides everything that matters (only approved stories with consent
are ever public, who is verified, who is a tutor or staff); the pages only show its answers.
The widget page is the one page of the site that any other site may frame: it has no form
and no session, so framing it cannot be turned against anyone (see ``security.allow_framing``).
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)

from services.web import clients, security
from services.web.pages.forms import Form

bp = Blueprint("testimonial_pages", __name__, url_prefix="/testimonials")

STATIC = Path(__file__).resolve().parent.parent / "static"

FIELDS = ("display_name", "program", "story", "rating", "consent")
STORY_MIN, STORY_MAX = 20, 2000
NAME_MAX = 80
RATINGS = (5, 4, 3, 2, 1)

WIDGET_DEFAULT_LIMIT = 6
WIDGET_MAX_LIMIT = 20
WIDGET_MAX_AGE = 300
"""The widget is the same for every visitor, so browsers and caches may keep it a few minutes."""
SCRIPT_MAX_AGE = 3600


@bp.app_template_global()
def program_options() -> list[dict]:
    """The programs a story can be about, or none while the service is down (pages still work)."""
    try:
        return clients.testimonials.programs() or []
    except clients.ServiceUnavailable:
        return []


def _program(value: str | None, programs: list[dict]) -> str | None:
    known = {p.get("program") for p in programs}
    return value if value in known else None


@bp.get("")
def wall():
    programs = program_options()
    program = _program(request.args.get("program"), programs)
    return render_template(
        "testimonials.html",
        testimonials=clients.testimonials.wall(program=program),
        programs=programs,
        program=program,
    )


def _story_fields(form: Form) -> dict | None:
    """What the service needs from the form; problems the page can see go on the fields."""
    form.require("display_name", "Enter the name to show with your story.")
    if len(form["display_name"]) > NAME_MAX:
        form.add("display_name", f"Keep the name under {NAME_MAX} characters.")
    form.require("program", "Choose the course or tutoring your story is about.")
    length = len(form["story"])
    if length < STORY_MIN:
        form.add("story", f"Tell us a little more: at least {STORY_MIN} characters.")
    elif length > STORY_MAX:
        form.add("story", f"Keep it under {STORY_MAX} characters (it is {length}).")
    if form["rating"] not in {str(r) for r in RATINGS}:
        form.add("rating", "Choose a rating from 1 to 5 stars.")
    if not form.ok:
        return None
    return {
        "display_name": form["display_name"],
        "program": form["program"],
        "story": form["story"],
        "rating": int(form["rating"]),
        "consent": form["consent"] == "yes",
    }


def _posted() -> Form:
    form = Form.posted(*FIELDS)
    form.values["story"] = request.form.get("story", "").strip()
    return form


def _consent() -> dict:
    return clients.testimonials.consent() or {}


def _thank(answer: dict | None) -> str:
    answer = answer or {}
    session["testimonial_thanks"] = {
        "consent": bool(answer.get("consent")),
        "verified": bool(answer.get("verified")),
    }
    return redirect(url_for(".thanks"))


def _render_form(
    form: Form,
    *,
    status: int = 200,
    token: str | None = None,
    mine=None,
    asked: dict | None = None,
):
    """The form; ``asked`` is the request an email link was for (its program is always offered)."""
    programs = program_options()
    if asked and asked.get("program") not in {p.get("program") for p in programs}:
        label = asked.get("program_label") or asked.get("program")
        programs = [{"program": asked.get("program"), "label": label}, *programs]
    return render_template(
        "testimonial_new.html",
        form=form,
        programs=programs,
        consent=_consent(),
        ratings=RATINGS,
        token=token,
        mine=mine or [],
        story_min=STORY_MIN,
        story_max=STORY_MAX,
    ), status


def _my_stories() -> list[dict]:
    try:
        return clients.testimonials.mine(security.access_token()) or []
    except (clients.ServiceError, clients.ServiceUnavailable):
        return []


@bp.route("/new", methods=["GET", "POST"])
@security.login_required
def new():
    if request.method == "GET":
        user = security.current_user() or {}
        form = Form(
            FIELDS,
            {"display_name": user.get("name") or "", "program": request.args.get("program", "")},
        )
        return _render_form(form, mine=_my_stories())
    form = _posted()
    fields = _story_fields(form)
    if fields is not None:
        try:
            answer = clients.testimonials.submit(fields, token=security.access_token())
        except clients.ServiceError as error:
            if error.status in (401, 403):
                raise
            form.take(error)
            return _render_form(form, status=error.status, mine=_my_stories())
        return _thank(answer)
    return _render_form(form, status=422, mine=_my_stories())


def _request_or_page(token: str):
    """Who the email link was for; a bad or old link becomes a friendly page instead."""
    try:
        return clients.testimonials.lookup_request(token), None
    except clients.ServiceError as error:
        if error.status == 410:
            return None, (render_template("testimonial_link.html", expired=True), 410)
        if error.status in (404, 422):
            return None, (render_template("testimonial_link.html", expired=False), 404)
        raise


@bp.route("/new/<token>", methods=["GET", "POST"])
def new_from_link(token: str):
    """The link in the request email: no sign-in, the signed token says who is writing."""
    found, page = _request_or_page(token)
    if page is not None:
        return page
    if request.method == "GET":
        form = Form(
            FIELDS, {"display_name": found.get("name") or "", "program": found.get("program") or ""}
        )
        return _render_form(form, token=token, asked=found)
    form = _posted()
    fields = _story_fields(form)
    if fields is not None:
        try:
            answer = clients.testimonials.submit(fields, request_token=token)
        except clients.ServiceError as error:
            if error.status == 410:
                return render_template("testimonial_link.html", expired=True), 410
            form.take(error)
            return _render_form(form, status=error.status, token=token, asked=found)
        return _thank(answer)
    return _render_form(form, status=422, token=token, asked=found)


@bp.get("/thanks")
def thanks():
    outcome = session.get("testimonial_thanks")
    if outcome is None:
        return redirect(url_for(".wall"))
    return render_template("testimonial_thanks.html", outcome=outcome)


def _limit(value: str | None) -> int:
    try:
        limit = int(value or WIDGET_DEFAULT_LIMIT)
    except ValueError:
        return WIDGET_DEFAULT_LIMIT
    return max(1, min(limit, WIDGET_MAX_LIMIT))


@bp.get("/widget")
def widget():
    """A self-contained page for an iframe on any site: approved stories only, no forms."""
    security.allow_framing()
    program = request.args.get("program") or None
    status = 200
    try:
        stories = clients.testimonials.wall(
            program=program, limit=_limit(request.args.get("limit"))
        )
    except clients.ServiceUnavailable:
        stories, status = None, 503
    except clients.ServiceError as error:
        if error.status >= 500:
            raise
        stories = []
    response = make_response(
        render_template("testimonial_widget.html", testimonials=stories, program=program), status
    )
    if status == 200:
        response.headers["Cache-Control"] = f"public, max-age={WIDGET_MAX_AGE}"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/widget.js")
def widget_script():
    """The script a marketing page includes: each ``data-preceptor-testimonials`` div gets the
    widget iframe from this site's origin (the script finds it from its own address)."""
    response = send_from_directory(
        STATIC, "testimonials-widget.js", mimetype="text/javascript", max_age=SCRIPT_MAX_AGE
    )
    response.headers["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
