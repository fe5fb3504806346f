"""The site under test, pointed at real HTTP stand-ins for the contracts of the services it calls."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.web.app import create_app
from services.web.tests.contracts.base import ContractServer
from services.web.tests.contracts.email import EmailContract
from services.web.tests.contracts.enrollment import EnrollmentContract
from services.web.tests.contracts.identity import IdentityContract
from services.web.tests.contracts.payments import PaymentsContract
from services.web.tests.contracts.testimonials import TestimonialsContract
from services.web.tests.contracts.tutoring import TutoringContract
from shared import migrations
from shared.testing.fixtures import free_port, serve_in_thread


@pytest.fixture(scope="session")
def identity_server() -> Iterator[IdentityContract]:
    server = IdentityContract()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def email_server() -> Iterator[EmailContract]:
    server = EmailContract()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def enrollment_server() -> Iterator[EnrollmentContract]:
    server = EnrollmentContract()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def payments_server() -> Iterator[PaymentsContract]:
    server = PaymentsContract()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tutoring_server() -> Iterator[TutoringContract]:
    server = TutoringContract()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def testimonials_server() -> Iterator[TestimonialsContract]:
    server = TestimonialsContract()
    server.start()
    yield server
    server.stop()


def serving(server: ContractServer, monkeypatch: pytest.MonkeyPatch, variable: str) -> Iterator:
    """Point the site at ``server`` for one test; fail the test if the stand-in drifted.

    A drift is an answer the real service could not give (see contracts/openapi_check.py).
    """
    server.reset()
    monkeypatch.setenv(variable, server.url)
    yield server
    assert not server.drifts, "a stand-in answered what the real service would not:\n" + (
        "\n".join(dict.fromkeys(server.drifts))
    )


@pytest.fixture
def identity_api(identity_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityContract]:
    yield from serving(identity_server, monkeypatch, "IDENTITY_URL")


@pytest.fixture
def email_api(email_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmailContract]:
    yield from serving(email_server, monkeypatch, "EMAIL_URL")


@pytest.fixture
def enrollment_api(
    enrollment_server, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EnrollmentContract]:
    yield from serving(enrollment_server, monkeypatch, "ENROLLMENT_URL")


@pytest.fixture
def payments_api(payments_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[PaymentsContract]:
    yield from serving(payments_server, monkeypatch, "PAYMENTS_URL")


@pytest.fixture
def tutoring_api(tutoring_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[TutoringContract]:
    yield from serving(tutoring_server, monkeypatch, "TUTORING_URL")


@pytest.fixture
def testimonials_api(
    testimonials_server, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestimonialsContract]:
    yield from serving(testimonials_server, monkeypatch, "TESTIMONIALS_URL")


@pytest.fixture(scope="session")
def migrated_site_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site's SQLite database migrated once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("web-db") / "web.db"
    migrations.upgrade("web", f"sqlite:///{path}")
    return path


@pytest.fixture
def site_database(var_dir: Path, migrated_site_database: Path) -> str:
    """The site's own database (its sessions), where `make run` keeps it: VAR_DIR/web.db."""
    shutil.copyfile(migrated_site_database, var_dir / "web.db")
    return f"sqlite:///{var_dir / 'web.db'}"


@pytest.fixture
def site(
    site_database,
    identity_api,
    email_api,
    enrollment_api,
    payments_api,
    tutoring_api,
    testimonials_api,
) -> Flask:
    return create_app()


@pytest.fixture
def live_site(site: Flask) -> Iterator[str]:
    """The site on a real port, for a browser."""
    server = serve_in_thread(site)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def client(site: Flask) -> FlaskClient:
    return site.test_client()


@pytest.fixture
def nothing_listening() -> str:
    """The address of a service that is down: a free port nobody listens on."""
    return f"http://127.0.0.1:{free_port()}"


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: FlaskClient, path: str) -> str:
    """The CSRF token a person's browser would submit, read from the form on ``path``."""
    page = client.get(path)
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match, f"no csrf_token field on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str = "student@example.org") -> None:
    token = csrf_from(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": "correct-horse", "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
