"""The site starts under the shared ``services()`` fixture, as the end-to-end tests will use it."""

from __future__ import annotations

import requests


def test_site_serves_over_real_http_through_the_shared_fixture(services, email_api):
    web = services("web", serve=True)

    response = requests.get(f"{web.url}/", timeout=5)

    assert response.status_code == 200
    assert "Email updates" in response.text
    assert web.runtime.db.is_postgresql  # its sessions, in a database of its own
    assert web.runtime.broker is None  # it is on no bus
