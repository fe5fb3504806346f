"""Hostile input, at every service's HTTP edge: text PostgreSQL cannot store, JSON too deep to
parse, bytes that are not UTF-8, bodies too large (with and without ``Content-Length``).

Each is answered with a problem+json 4xx naming the field where there is one, never a 500;
text that is odd but valid (right-to-left marks, zero-width joiners, emoji, long names) is
stored and echoed back exactly as sent.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from services.web.tests.conftest import csrf_from
from shared import config
from shared.testing.fixtures import free_port, wait_for
from tests.api.access import permitted_headers
from tests.test_bad_input import (
    API_SERVICES,
    assert_problem,
    json_operations,
    resolve,
)

ROOT = Path(__file__).resolve().parents[1]

UNSTORABLE = {"nul": "Ada\x00Lovelace", "lone surrogate": "\ud800"}
"""Text no field can hold: PostgreSQL refuses NUL, UTF-8 cannot encode a lone surrogate."""
MERELY_ODD = {"line break": "Ada\r\nBcc: victim@example.com", "very long": "x" * 20_000}
"""Text some fields refuse (names, subjects) and others may take (a password, a story)."""
DEEP = "[" * 50_000 + "]" * 50_000
ODD_BUT_VALID = (
    "\u202eAda\u200d Lovelace \u05e9\u05dc\u05d5\u05dd \U0001f469\u200d\U0001f52c e\u0301"
)


@pytest.mark.parametrize("service", API_SERVICES)
def test_hostile_text_and_bodies_get_a_4xx_problem_from_every_json_endpoint(
    service, services, people
):
    """Each call comes from a caller the endpoint lets in, so its body is what is answered."""
    identity, callers = people
    svc = identity if service == "identity" else services(service)
    client = svc.client
    spec = client.get("/openapi.json").get_json()
    for method, path, schema, operation in json_operations(spec):
        headers = permitted_headers(operation, callers)
        call = getattr(client, method)
        props = schema.get("properties", {})
        for name, prop in props.items():
            if resolve(spec, prop).get("type", "string") != "string":
                continue
            for value in UNSTORABLE.values():
                r = call(path, json={k: "x" for k in props} | {name: value}, headers=headers)
                problem = assert_problem(r)
                if r.status_code != 404:
                    assert problem["status"] == 422 and name in problem["errors"], (path, problem)
            for value in MERELY_ODD.values():
                r = call(path, json={k: "x" for k in props} | {name: value}, headers=headers)
                if r.status_code >= 400:
                    assert_problem(r)
        r = call(path, data=DEEP, content_type="application/json", headers=headers)
        assert assert_problem(r)["status"] in (400, 404), path
        r = call(
            path, data=b'{"name": "\xff\xfe"}', content_type="application/json", headers=headers
        )
        assert assert_problem(r)["status"] in (400, 404)


def test_nul_and_surrogates_are_refused_naming_the_field(services):
    identity = services("identity")
    for value in ("Ada\x00Lovelace", "\ud800", "Ada\udfff"):
        r = identity.client.post(
            "/api/users",
            data=json.dumps({"email": "ada@example.com", "password": "p" * 12, "name": value}),
            content_type="application/json",
        )
        assert assert_problem(r)["status"] == 422
        assert list(r.get_json()["errors"]) == ["name"]
    r = identity.client.post(
        "/api/auth/login", json={"email": "a\x00@example.com", "password": "x"}
    )
    assert assert_problem(r)["errors"] == {"email": ["Must not contain NUL characters."]}
    r = identity.client.get("/api/.well-known/jwks.json?kid=%00")
    assert r.status_code != 500


def test_a_deeply_nested_body_is_a_400_not_a_recursion_error(services):
    client = services("identity").client
    r = client.post("/api/users", data=DEEP, content_type="application/json")
    problem = assert_problem(r)
    assert problem["status"] == 400 and "nested deeper" in problem["detail"]
    too_deep = json.dumps({"name": json.loads("[" * 40 + '"a"' + "]" * 40)})
    r = client.post("/api/users", data=too_deep, content_type="application/json")
    assert assert_problem(r)["status"] == 400


def test_odd_but_valid_unicode_is_stored_and_echoed_exactly(services):
    identity = services("identity")
    client = identity.client
    r = client.post(
        "/api/users",
        json={"email": "ada@example.com", "password": "p" * 12, "name": ODD_BUT_VALID},
    )
    assert r.status_code == 202, r.get_json()
    login = client.post("/api/auth/login", json={"email": "ada@example.com", "password": "p" * 12})
    me = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    assert client.get("/api/users/me", headers=me).get_json()["name"] == ODD_BUT_VALID
    long_name = "\u00e9" * 100
    r = client.patch("/api/users/me", json={"name": long_name}, headers=me)
    assert r.status_code == 200, r.get_json()
    assert client.get("/api/users/me", headers=me).get_json()["name"] == long_name


def chunked_post(url: str, chunks: int, chunk: bytes) -> tuple[int, str, bytes]:
    """POST a chunked body (no Content-Length); the status, content type and body."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(
            "POST",
            "/api/users",
            body=(chunk for _ in range(chunks)),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


def test_an_oversized_body_is_a_413_with_or_without_content_length(services):
    url = services("identity", serve=True).url
    limit = config.max_body_bytes()
    r = requests.post(
        f"{url}/api/users",
        data=b"x" * (limit + 1),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 413 and r.headers["Content-Type"] == "application/problem+json"
    status, content_type, body = chunked_post(url, chunks=limit // 65536 + 2, chunk=b" " * 65536)
    assert (status, content_type) == (413, "application/problem+json"), body[:300]
    status, _, body = chunked_post(url, chunks=1, chunk=b'{"email": "a"}')
    assert status == 422, body[:300]


def test_a_name_with_a_line_break_is_refused_naming_the_field(services):
    client = services("identity").client
    for name in ("Ada\r\nBcc: victim@example.com", "Ada\nLovelace", "Ada\u2028Lovelace"):
        r = client.post(
            "/api/users", json={"email": "ada@example.com", "password": "p" * 12, "name": name}
        )
        assert assert_problem(r)["errors"].keys() == {"name"}


def test_the_site_answers_hostile_form_text_with_the_form_and_its_error(services):
    services("identity", serve=True)
    site = services("web").client
    cases = {
        "Ada\x00Lovelace": "NUL",
        "Ada\r\nBcc: victim@example.com": "one line",
        "Ada%ff%feLovelace": None,  # not UTF-8 once percent-decoded: replaced, or refused
    }
    for number, (name, message) in enumerate(cases.items()):
        token = csrf_from(site, "/register")
        body = "&".join(
            f"{k}={v}"
            for k, v in {
                "name": name if "%" in name else quote(name),
                "email": f"ada{number}@example.com",
                "password": "a long enough password",
                "confirm": "a long enough password",
                "csrf_token": token,
            }.items()
        )
        r = site.post("/register", data=body, content_type="application/x-www-form-urlencoded")
        assert r.status_code in (200, 422), (name, r.status_code)
        if message:
            assert r.status_code == 422 and message in r.get_data(as_text=True), name


def test_under_gunicorn_as_deployed_hostile_bodies_get_the_same_answers(
    make_database, bus_settings, tmp_path
):
    """The production server (gunicorn, gthread, deploy/gunicorn.conf.py) in front of identity:
    its own handling of chunked bodies must not change a single answer."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "IDENTITY_DATABASE_URL": make_database("identity"),
        "BROKER_URL": bus_settings.url,
        "BUS_EXCHANGE": bus_settings.exchange,
        "BUS_QUEUE_PREFIX": bus_settings.queue_prefix,
        "VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "services.identity.app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: server.poll() is not None or _answers(f"{url}/healthz"),
            timeout=30,
            message="gunicorn to serve identity",
        )
        assert server.poll() is None, log.read_text()[-2000:]
        limit = config.max_body_bytes()
        status, content_type, _ = chunked_post(url, chunks=limit // 65536 + 2, chunk=b" " * 65536)
        assert (status, content_type) == (413, "application/problem+json")
        r = requests.post(
            f"{url}/api/users", data=DEEP, headers={"Content-Type": "application/json"}, timeout=10
        )
        assert (r.status_code, r.headers["Content-Type"]) == (400, "application/problem+json")
        r = requests.post(
            f"{url}/api/users",
            json={"email": "ada@example.com", "password": "p" * 12, "name": "Ada\x00"},
            timeout=10,
        )
        assert r.status_code == 422 and r.json()["errors"].keys() == {"name"}
        r = requests.post(
            f"{url}/api/users",
            json={"email": "ada@example.com", "password": "p" * 12, "name": ODD_BUT_VALID},
            timeout=30,
        )
        assert r.status_code == 202, r.text
        login = requests.post(
            f"{url}/api/auth/login",
            json={"email": "ada@example.com", "password": "p" * 12},
            timeout=30,
        )
        assert login.json()["user"]["name"] == ODD_BUT_VALID
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False
