"""Test helpers for what operators see: Prometheus samples, access tokens by role, JSON logs."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from prometheus_client.parser import text_string_to_metric_families

from shared import auth
from shared.logs import JsonFormatter


def sample(exposition: bytes | str, name: str, **labels: str) -> float:
    """The value of one series in a /metrics answer (summed over labels not named; 0 if absent)."""
    text = exposition.decode() if isinstance(exposition, bytes) else exposition
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == str(v) for k, v in labels.items()):
                total += s.value
    return total


class Issuer:
    """Mints access tokens the way identity does, for apps told to trust it (``trust``)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def trust(self, app: Any) -> None:
        auth.install(app, auth.TokenVerifier(lambda: self.jwks))

    def headers(self, *roles: str) -> dict[str, str]:
        now = int(time.time())
        claims = {
            "iss": auth.ISSUER,
            "aud": auth.AUDIENCE,
            "typ": "access",
            "sub": str(uuid.uuid4()),
            "roles": list(roles),
            "email": "someone@example.com",
            "name": "Someone",
            "iat": now,
            "exp": now + 600,
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        return {"Authorization": f"Bearer {token}"}


class _Lines(logging.Handler):
    def __init__(self, service: str) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter(service))
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@contextmanager
def json_log_lines(service: str) -> Iterator[list[dict[str, Any]]]:
    """Every log line written in the block, as the service's real JSON formatter renders it."""
    root = logging.getLogger()
    handler = _Lines(service)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
