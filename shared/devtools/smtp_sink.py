"""A real SMTP server that accepts every message and keeps it in a Maildir.

`make run` starts it from the Procfile, so the email service has somewhere to deliver without
an outside mail server:

    python -m shared.devtools.smtp_sink --host 127.0.0.1 --port 8025 --maildir var/mail

Tests reuse the class:

    sink = SmtpSink("127.0.0.1", 0, tmp_path / "mail")   # port 0: pick a free port
    sink.start()
    ...                                                  # deliver to 127.0.0.1:sink.port
    [message] = sink.wait_for(1)
    sink.stop()

Each stored message gets two headers in front of what the client sent, so a test can see the
envelope (which a Bcc recipient only appears in): ``X-Envelope-From`` and ``X-Envelope-To``.
"""

from __future__ import annotations

import argparse
import logging
import mailbox
import os
import re
import signal
import sys
import threading
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger("preceptor.smtp_sink")

_MAILDIR_FOLDERS = ("tmp", "new", "cur")


def _maildir_for_writing(path: Path) -> mailbox.Maildir:
    """The Maildir at ``path``, made with its ``tmp``, ``new`` and ``cur`` where any is missing.

    ``mailbox.Maildir(path, create=True)`` makes the three only when ``path`` itself does not
    exist: on an existing empty folder (``mkdir var/mail``, a test's temporary directory) every
    message would then fail on the missing ``tmp``.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in _MAILDIR_FOLDERS:
        (path / name).mkdir(mode=0o700, exist_ok=True)
    return mailbox.Maildir(path, create=False)


def _is_maildir(path: Path) -> bool:
    return all((path / name).is_dir() for name in _MAILDIR_FOLDERS)


_DELIVERY_NAME = re.compile(r"(\d+)\.M(\d+)P\d+Q(\d+)\.")
"""How Python's ``mailbox.Maildir`` names a message: seconds, microseconds and a per-process
counter of its delivery."""


def _arrival(box: mailbox.Maildir, key: str) -> tuple[int, int, int, str]:
    """Sort key, oldest first: the delivery time in the file's name, read as numbers.

    Not the file's mtime alone, which moves in kernel ticks of a few milliseconds on older
    kernels (two emails sent back to back share it), nor the name as text, whose microseconds
    have no leading zeros ("M100600" sorts before "M99600").
    """
    named = _DELIVERY_NAME.match(key)
    if named is None:  # a file some other program put there
        micros = round(box.get_message(key).get_date() * 1_000_000)
        return micros // 1_000_000, micros % 1_000_000, 0, key
    seconds, micros, counter = (int(part) for part in named.groups())
    return seconds, micros, counter, key


def _subject(raw: bytes) -> str:
    """The decoded Subject of a message, from its header block alone (for the log line)."""
    head = raw.split(b"\n\n", 1)[0]
    return str(BytesHeaderParser(policy=policy.default).parsebytes(head).get("Subject", ""))


class _MaildirHandler:
    """aiosmtpd handler: every accepted message is added to one Maildir."""

    def __init__(self, maildir: Path) -> None:
        self._box = _maildir_for_writing(maildir)

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        raw = raw.replace(b"\r\n", b"\n")  # a Maildir file has Unix line ends
        recipients = ", ".join(envelope.rcpt_tos)
        prefix = f"X-Envelope-From: <{envelope.mail_from}>\nX-Envelope-To: {recipients}\n"
        key = self._box.add(prefix.encode() + raw)
        if not log.isEnabledFor(logging.INFO):
            return "250 Message accepted"  # parsing headers for a line nobody reads cost a third
        log.info(
            "stored message %s from <%s> to %s, subject %r, %d bytes",
            key,
            envelope.mail_from,
            recipients,
            _subject(raw),
            len(raw),
        )
        return "250 Message accepted"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # With port 0 the operating system picked the port: learn it before aiosmtpd
        # connects to its own server to finish starting.
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """An SMTP server on ``host:port`` that stores every message in the Maildir ``maildir``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8025, maildir: str | Path = "var/mail"):
        self.host = host
        self.port = port
        self.maildir = Path(maildir)
        self._controller: _Controller | None = None

    def start(self) -> None:
        """Listen in a background thread; returns once the server answers."""
        if self._controller is not None:
            raise RuntimeError("the SMTP sink is already running")
        controller = _Controller(_MaildirHandler(self.maildir), hostname=self.host, port=self.port)
        controller.start()
        self.port = controller.port
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def messages(self) -> list[EmailMessage]:
        """Every stored message, oldest first, parsed with ``email.policy.default``."""
        if not _is_maildir(self.maildir):  # no sink has started on it yet
            return []
        box = mailbox.Maildir(self.maildir, create=False)
        keys = sorted(box.keys(), key=lambda key: _arrival(box, key))
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(box.get_bytes(key)) for key in keys]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages are stored; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"expected {count} message(s) in {self.maildir} within {timeout:g} s, "
                    f"found {len(found)}"
                )
            time.sleep(0.05)

    def clear(self) -> None:
        """Remove every stored message."""
        if self.maildir.exists():
            _maildir_for_writing(self.maildir).clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.devtools.smtp_sink",
        description="SMTP server that stores every message it receives in a Maildir.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8025, help="port to listen on")
    parser.add_argument(
        "--maildir",
        default=os.path.join(os.environ.get("VAR_DIR") or "var", "mail"),
        help="Maildir folder the messages go to (default: $VAR_DIR/mail)",
    )
    args = parser.parse_args(argv)

    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else "INFO",
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stdout,
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())

    sink = SmtpSink(args.host, args.port, args.maildir)
    sink.start()
    log.info(
        "SMTP sink listening on %s:%d, storing messages in %s", sink.host, sink.port, sink.maildir
    )
    while not stopping.wait(1.0):
        pass
    sink.stop()
    log.info("SMTP sink stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
