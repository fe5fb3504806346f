"""`make run`, as a newcomer runs it: SQLite, the filesystem broker, the SMTP sink, supervisord.

The sign-up journey over HTTP against the embedded default, on ports of its own so it can run
beside a suite a developer already has open; a process killed under it comes back while the
others keep running, and Ctrl-C stops every process.
"""

from __future__ import annotations

import mailbox
import os
import re
import signal
import subprocess
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests

from benchmarks.make_run import tree
from shared import config
from shared.testing.fixtures import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("embedded")
    ports = {f"{name.upper()}_PORT": free_port() for name in (*config.SERVICES, "smtp", "stripe")}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("_URL", "_DATABASE_URL"))
        and not key.startswith(("SMTP_", "BUS_", "STRIPE_"))
    }
    env.update({k: str(v) for k, v in ports.items()})
    env["VAR_DIR"] = str(tmp_path / "var")
    log = (tmp_path / "make-run.log").open("w")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    site = f"http://127.0.0.1:{ports['WEB_PORT']}"

    def up() -> bool:
        try:
            return all(
                requests.get(f"http://127.0.0.1:{ports[p]}/healthz", timeout=1).ok
                for p in (f"{s.upper()}_PORT" for s in config.SERVICES)
            )
        except requests.RequestException:
            assert process.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            return False

    try:
        wait_for(up, timeout=180, interval=0.5, message="make run to serve every process")
        yield {
            "make": process,
            "ports": ports,
            "site": site,
            "identity": f"http://127.0.0.1:{ports['IDENTITY_PORT']}",
            "email": f"http://127.0.0.1:{ports['EMAIL_PORT']}",
            "enrollment": f"http://127.0.0.1:{ports['ENROLLMENT_PORT']}",
            "stripe": f"http://127.0.0.1:{ports['STRIPE_PORT']}",
            "maildir": tmp_path / "var" / "mail",
            "log": tmp_path / "make-run.log",
        }
    finally:
        # Ctrl-C: the terminal sends SIGINT to make and supervisord; every process must go.
        pids = [p.pid for p in tree(process.pid)]
        os.killpg(process.pid, signal.SIGINT)
        left = wait_for_exit(pids, timeout=60)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()
        assert not left, f"still running after Ctrl-C: {left}"


def wait_for_exit(pids: list[int], timeout: float) -> list[int]:
    """The pids of ``pids`` still running after ``timeout`` seconds (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in pids if running(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def mail_to(maildir: Path, to: str, subject: str):
    def find():
        if not maildir.exists():
            return None
        for _, msg in mailbox.Maildir(maildir, create=False).items():
            parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
            if to in str(parsed["To"]).lower() and subject in str(parsed["Subject"]).lower():
                return parsed
        return None

    return wait_for(find, timeout=30, interval=0.2, message=f"mail to {to} about {subject}")


@pytest.mark.embedded
def test_make_run_serves_the_sign_up_journey_on_the_embedded_default(embedded):
    site = embedded["site"]
    assert "Preceptor" in requests.get(site, timeout=5).text
    assert embedded["log"].read_text().count(f"Preceptor is running at {site}") == 1

    r = requests.post(
        f"{embedded['identity']}/api/users",
        json={"email": "lin@example.com", "password": "a long enough password", "name": "Lin Wei"},
    )
    assert r.status_code == 202, r.text
    mail_to(embedded["maildir"], "lin@example.com", "welcome")

    r = requests.post(
        f"{embedded['email']}/api/subscriptions",
        json={"email": "lin@example.com", "topics": ["step2ck"]},
    )
    assert r.status_code == 202, r.text
    confirmation = mail_to(embedded["maildir"], "lin@example.com", "confirm")
    body = confirmation.get_body(preferencelist=("plain",)).get_content()
    token = re.search(rf"{re.escape(site)}/confirm/(\S+)", body).group(1)

    session = requests.Session()
    page = session.get(f"{site}/confirm/{token}")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = session.post(f"{site}/confirm/{token}", data={"csrf_token": csrf})
    assert done.status_code == 200 and "subscribed" in done.text.lower()

    subscribed = mail_to(embedded["maildir"], "lin@example.com", "subscribed")
    url = re.search(r"<(https?://[^>]+)>", str(subscribed["List-Unsubscribe"])).group(1)
    one_click = requests.post(
        url,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    manage = url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = requests.get(f"{embedded['email']}/api/preferences/{manage}").json()["status"]
        if status == "unsubscribed":
            break
        time.sleep(0.2)
    assert status == "unsubscribed"


@pytest.mark.embedded
def test_make_run_sells_a_course_through_localstripe_and_the_filesystem_bus(embedded):
    import stripe

    r = requests.post(
        f"{embedded['identity']}/api/users",
        json={
            "email": "omar@example.com",
            "password": "a long enough password",
            "name": "Omar Haddad",
        },
    )
    assert r.status_code == 202, r.text
    login = requests.post(
        f"{embedded['identity']}/api/auth/login",
        json={"email": "omar@example.com", "password": "a long enough password"},
    ).json()
    me = {"Authorization": f"Bearer {login['access_token']}"}

    enrolled = requests.post(
        f"{embedded['enrollment']}/api/enrollments",
        headers=me,
        json={"course_slug": "usmle-step-2-ck-prep"},
    )
    assert enrolled.status_code == 201, enrolled.text
    enrollment = enrolled.json()
    secret = enrollment["checkout"]["client_secret"]

    # What the buyer's browser does at Stripe (here localstripe), with the embedded test keys.
    client = stripe.StripeClient(
        "sk_test_preceptor_local", base_addresses={"api": embedded["stripe"]}
    )
    intent = secret.split("_secret_")[0]
    client.v1.payment_intents.update(intent, params={"payment_method": "pm_card_visa"})
    assert client.v1.payment_intents.confirm(intent).status == "succeeded"

    def active() -> bool:
        url = f"{embedded['enrollment']}/api/enrollments/{enrollment['id']}"
        return requests.get(url, headers=me).json()["status"] == "active"

    wait_for(active, timeout=30, interval=0.3, message="the webhook to activate the enrollment")
    receipt = mail_to(embedded["maildir"], "omar@example.com", "receipt")
    assert "$1,299.00" in receipt.get_body(preferencelist=("plain",)).get_content()


def programs(make: subprocess.Popen) -> dict[str, int]:
    """The pid of each process supervisord runs under ``make run`` (and gunicorn's worker)."""
    processes = tree(make.pid)
    [supervisord] = [p for p in processes if "supervisord" in p.command]
    names = {
        "workers": "-m shared.devtools.embedded",
        "web": "shared.devtools.embedded:web_app()",
        "smtp": "shared.devtools.smtp_sink",
        "stripe": "shared.devtools.fake_stripe",
        "log": "--print-logs",
    }
    found = {}
    for p in processes:
        for name, mark in names.items():
            if mark in p.command and p.ppid == supervisord.pid:
                found[name] = p.pid
            elif mark in p.command and name == "web":
                found["web worker"] = p.pid
    return found


@pytest.mark.embedded
def test_a_killed_worker_comes_back_while_every_other_process_keeps_running(embedded):
    before = programs(embedded["make"])
    assert set(before) == {"workers", "web", "web worker", "smtp", "stripe", "log"}, before

    os.kill(before["workers"], signal.SIGKILL)

    def restarted():
        now = programs(embedded["make"])
        return now if now.get("workers") not in (None, before["workers"]) else None

    after = wait_for(restarted, timeout=30, interval=0.2, message="supervisord to restart workers")
    assert {k: v for k, v in after.items() if k != "workers"} == {
        k: v for k, v in before.items() if k != "workers"
    }, "only the killed process may have a new pid"
    assert "exited: workers (terminated by SIGKILL; not expected)" in embedded["log"].read_text()

    # The new workers process does the work: identity's event reaches email's worker, which
    # sends the welcome email; the site kept serving all along.
    r = requests.post(
        f"{embedded['identity']}/api/users",
        json={"email": "ada@example.com", "password": "a long enough password", "name": "Ada"},
    )
    assert r.status_code == 202, r.text
    mail_to(embedded["maildir"], "ada@example.com", "welcome")
    assert requests.get(embedded["site"], timeout=5).ok
    # Each program's lines reach the terminal under its name, as they did under honcho.
    assert re.search(r"^\d\d:\d\d:\d\d workers +\| ", embedded["log"].read_text(), re.MULTILINE)
