"""Times on the reader's clock on every page: the account's zone, else the browser's, else UTC."""

from __future__ import annotations

from services.web.tests.conftest import csrf_from, sign_in

HOLD_IN_NEW_YORK = "Fri 20 Feb 2026, 09:30 New York time (EST)"  # 14:30 UTC
HOLD_IN_KOLKATA = "Fri 20 Feb 2026, 20:00 Kolkata time (IST)"


def test_checkout_and_my_enrollments_show_the_hold_on_the_browsers_clock(client, enrollment_api):
    sign_in(client)
    client.set_cookie("tz", "America/New_York")

    checkout = client.get("/checkout/enr-pending").get_data(as_text=True)
    enrollments = client.get("/my/enrollments").get_data(as_text=True)

    assert f'until <time datetime="2026-02-20T14:30:00+00:00">{HOLD_IN_NEW_YORK}</time>' in checkout
    assert HOLD_IN_NEW_YORK in enrollments
    assert "America/New_York" not in checkout and "America/New York" not in checkout
    assert "data-detect-zone" not in checkout  # the zone is known: no reload


def test_a_page_drawn_before_the_zone_is_known_says_utc_and_asks_the_browser(
    client, enrollment_api
):
    sign_in(client)

    html = client.get("/checkout/enr-pending").get_data(as_text=True)

    assert "Fri 20 Feb 2026, 14:30 UTC" in html
    assert "data-detect-zone" in html and "/static/timezone.js" in html


def test_the_accounts_zone_wins_over_the_browsers(client, enrollment_api):
    enrollment_api.add_enrollment("enr-kolkata", "kolkata@example.org", "pending_payment")
    sign_in(client, "kolkata@example.org")
    client.set_cookie("tz", "America/New_York")

    assert HOLD_IN_KOLKATA in client.get("/my/enrollments").get_data(as_text=True)


def test_the_account_page_sets_the_zone_and_refuses_one_that_is_not(client, identity_api):
    sign_in(client)
    page = client.get("/account").get_data(as_text=True)
    assert '<option value="" selected>My browser\'s time zone</option>' in page
    assert '<option value="Asia/Kolkata">Kolkata time (IST)</option>' in page
    token = csrf_from(client, "/account")

    refused = client.post(
        "/account/time-zone", data={"time_zone": "Mars/Olympus", "csrf_token": token}
    )
    saved = client.post(
        "/account/time-zone", data={"time_zone": "Asia/Kolkata", "csrf_token": token}
    )

    assert refused.status_code == 422
    assert "Choose a time zone from the list." in refused.get_data(as_text=True)
    assert saved.status_code == 302


def test_an_account_without_a_zone_takes_the_browsers_at_sign_in(client, enrollment_api):
    client.set_cookie("tz", "Asia/Calcutta")  # an old name: kept as the canonical one
    sign_in(client)
    client.set_cookie("tz", "America/New_York")  # the laptop travels; the account stays

    assert HOLD_IN_KOLKATA in client.get("/my/enrollments").get_data(as_text=True)


def test_an_admin_types_a_codes_expiry_on_their_own_clock(client, enrollment_api):
    sign_in(client, "admin@example.org")
    client.set_cookie("tz", "America/New_York")
    form = client.get("/admin/promo-codes").get_data(as_text=True)
    assert "Expires, New York time (E" in form
    token = csrf_from(client, "/admin/promo-codes")

    client.post(
        "/admin/promo-codes",
        data={
            "code": "newyear",
            "kind": "percent",
            "value": "10",
            "currency": "USD",
            "expires_at": "2026-12-31T23:59",
            "csrf_token": token,
        },
    )

    [call] = enrollment_api.calls_to("POST", "/api/admin/promo-codes")
    assert call.json["expires_at"] == "2027-01-01T04:59:00+00:00"  # 23:59 EST
