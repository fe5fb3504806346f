"""Opening an SMTP connection the way both senders need it: the transactional delivery loop
(delivery.py) and the campaign send loop (campaigns/sending.py)."""

from __future__ import annotations

import smtplib
import socket

from shared.config import SmtpSettings

SMTP_TIMEOUT = 10
"""Seconds to wait for the server, connecting and for each reply."""


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    connection = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
    try:
        # Commands are small writes each waiting for a reply: without TCP_NODELAY, Nagle's
        # algorithm may hold one until the server's delayed ACK (tens of milliseconds).
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if settings.starttls:
            connection.starttls()
        if settings.user:
            connection.login(settings.user, settings.password)
    except BaseException:
        connection.close()
        raise
    return connection
