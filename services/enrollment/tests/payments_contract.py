"""STAND-IN for the payments service's HTTP contract (issue 3), for enrollment's tests only.

The payments service is written in parallel and is not in this branch yet. This real HTTP
server answers the two endpoints enrollment calls, ``POST /api/payment-intents`` and
``GET /api/payments/by-purchase/<purchase_ref>``, with canned JSON shaped like the contract,
checks the caller's service token against identity's real keys, and records every request so
a test can see what enrollment sent. It holds no payment rules and talks to no Stripe. After
the merge the lead replaces it with the real payments service.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from shared import auth
from shared.errors import DomainError
from shared.testing.fixtures import free_port

REQUIRED = ("purchase_ref", "purchase_kind", "user_id", "email", "name", "amount_minor")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any
    authorization: str


def _problem(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": detail, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


class PaymentsContract:
    """A real HTTP server speaking payments' contract with canned answers."""

    def __init__(self) -> None:
        self.app = Flask("payments-contract")
        self.calls: list[Call] = []
        self.payments: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: BaseWSGIServer | None = None
        self.url = ""
        app = self.app

        @app.errorhandler(DomainError)
        def refused(error: DomainError) -> Response:
            return _problem(error.status, error.detail)

        @app.before_request
        def record() -> None:
            self.calls.append(
                Call(
                    request.method,
                    request.path,
                    request.get_json(silent=True),
                    request.headers.get("Authorization", ""),
                )
            )

        @app.post("/api/payment-intents")
        @auth.require("service")
        def create_intent() -> Response:
            body = request.get_json(silent=True) or {}
            missing = {k: ["Missing data for required field."] for k in REQUIRED if k not in body}
            if missing:
                return _problem(422, "Invalid fields", missing)
            if not isinstance(body["amount_minor"], int) or body["amount_minor"] <= 0:
                return _problem(422, "Invalid fields", {"amount_minor": ["Must be above 0."]})
            ref = body["purchase_ref"]
            with self._lock:
                existing = ref in self.payments
                if not existing:
                    n = next(self._ids)
                    self.payments[ref] = {
                        "payment_id": f"pay_contract_{n}",
                        "purchase_ref": ref,
                        "status": "requires_payment_method",
                        "client_secret": f"pi_contract_{n}_secret_canned",
                        "amount_minor": body["amount_minor"],
                        "currency": body.get("currency", "usd"),
                        "publishable_key": "pk_test_contract",
                        "js_url": "http://127.0.0.1:9/js.stripe.com/v3/",
                        "refunded_minor": 0,
                    }
                payment = dict(self.payments[ref])
            payment.pop("refunded_minor")
            response = jsonify(payment)
            response.status_code = 200 if existing else 201
            return response

        @app.get("/api/payments/by-purchase/<path:ref>")
        @auth.require("service")
        def by_purchase(ref: str) -> Response:
            with self._lock:
                payment = self.payments.get(ref)
            if payment is None:
                return _problem(404, "No payment for that purchase")
            keys = ("payment_id", "purchase_ref", "status", "amount_minor", "currency")
            return jsonify({k: payment[k] for k in (*keys, "refunded_minor")})

    def set_status(self, purchase_ref: str, status: str) -> None:
        with self._lock:
            self.payments[purchase_ref]["status"] = status

    def intents_for(self, purchase_ref: str) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.path == "/api/payment-intents"
            and (c.json or {}).get("purchase_ref") == purchase_ref
        ]

    def serve(self) -> str:
        self._server = make_server("127.0.0.1", free_port(), self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self.url

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
