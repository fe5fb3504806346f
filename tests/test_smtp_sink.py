"""The development SMTP sink: a real SMTP server whose messages can be read back."""

from __future__ import annotations

import mailbox
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from shared.devtools.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[1]


def _message(subject: str, to: str = "student@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Preceptor <hello@preceptor.localhost>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(f"Body of {subject}\n")
    return message


@pytest.fixture
def sink(tmp_path):
    with SmtpSink("127.0.0.1", 0, tmp_path / "mail") as running:
        yield running


def test_a_message_sent_over_smtp_is_stored_and_read_back(sink, tmp_path):
    message = _message("Your Step 1 study plan — week 1")
    message["Bcc"] = "tutor@example.com"

    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        client.send_message(message)

    [received] = sink.wait_for(1)
    assert received["Subject"] == "Your Step 1 study plan — week 1"
    assert received["To"] == "student@example.com"
    assert received.get_content() == "Body of Your Step 1 study plan — week 1\n"
    assert received["X-Envelope-From"] == "<hello@preceptor.localhost>"
    assert received["X-Envelope-To"] == "student@example.com, tutor@example.com"
    assert "Bcc" not in received
    assert len(mailbox.Maildir(tmp_path / "mail", create=False)) == 1


def test_messages_come_back_oldest_first_and_clear_empties_the_maildir(sink):
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        for n in range(3):
            client.send_message(_message(f"message {n}"))

    assert [m["Subject"] for m in sink.wait_for(3)] == ["message 0", "message 1", "message 2"]
    sink.clear()
    assert sink.messages() == []


def test_messages_delivered_in_one_clock_tick_keep_their_order(sink):
    # Two emails sent back to back can share a file time (kernel ticks of a few ms), and as
    # text "M100600" (0.1006 s) sorts before "M99600" (0.0996 s): the delivery order holds.
    new = sink.maildir / "new"
    for name, subject in (
        ("1796196754.M99600P7Q1.vm", "first"),
        ("1796196754.M100600P7Q2.vm", "second"),
    ):
        path = new / name
        path.write_bytes(_message(subject).as_bytes())
        os.utime(path, (1796196754, 1796196754))

    assert [m["Subject"] for m in sink.messages()] == ["first", "second"]


def test_a_sink_started_on_an_existing_empty_folder_stores_messages_in_it(tmp_path):
    maildir = tmp_path / "mail"
    maildir.mkdir()  # as `mkdir var/mail` before `make run` would leave it

    with SmtpSink("127.0.0.1", 0, maildir) as sink:
        assert sink.messages() == []
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            client.send_message(_message("first after mkdir"))
        assert [m["Subject"] for m in sink.wait_for(1)] == ["first after mkdir"]

    assert len(mailbox.Maildir(maildir, create=False)) == 1


def test_wait_for_says_how_many_messages_it_found_when_it_times_out(sink):
    with pytest.raises(TimeoutError, match="expected 1 message"):
        sink.wait_for(1, timeout=0.2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_line_sink_logs_one_line_per_message_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    maildir = tmp_path / "mail"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.devtools.smtp_sink",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--maildir",
            str(maildir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with client:
            client.send_message(_message("first"))
            client.send_message(_message("second"))
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)

    assert process.returncode == 0, output
    stored_lines = [line for line in output.splitlines() if "stored message" in line]
    assert len(stored_lines) == 2, output
    assert "'first'" in stored_lines[0]
    assert [m["Subject"] for m in SmtpSink(maildir=maildir).messages()] == ["first", "second"]
