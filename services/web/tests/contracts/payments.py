"""payments' stand-in: the card step and the admin ledger."""

from __future__ import annotations

from flask import Flask, jsonify, request

from services.web.tests.contracts.base import ContractServer, problem


class PaymentsContract(ContractServer):
    """payments' contract as the site uses it: only the admin ledger."""

    name = "payments"

    def routes(self, app: Flask) -> None:
        @app.post("/api/payments/<payment_id>/card")
        def pay_with_card(payment_id: str):
            if not request.headers.get("Authorization", "").startswith("Bearer access-"):
                return problem(401, "Send an access token.")
            if request.get_json()["token"] == "tok_chargeDeclined":
                return problem(402, "The card was declined", {"card": ["Your card was declined."]})
            return jsonify(
                {
                    "payment_id": payment_id,
                    "status": "succeeded",
                    "client_secret": "pi_contract1_secret_abc",
                }
            )

        @app.get("/api/admin/ledger")
        def ledger():
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer access-") or not header.split(".", 1)[1].startswith(
                "admin"
            ):
                return problem(403, "This needs the role admin.")
            return jsonify(
                {
                    "payments": [
                        {
                            "payment_id": "pay-1",
                            "purchase_ref": "enr-1",
                            "purchase_kind": "enrollment",
                            "user_id": "user-student",
                            "email": "payer@example.org",
                            "name": "Paula Payer",
                            "description": "USMLE Step 1 Prep",
                            "amount_minor": 149900,
                            "currency": "USD",
                            "status": "succeeded",
                            "refunded_minor": 50000,
                            "created_at": "2026-02-20T14:00:00+00:00",
                            "updated_at": "2026-02-21T10:00:00+00:00",
                        }
                    ],
                    "refunds": [
                        {
                            "refund_id": "re_1",
                            "payment_id": "pay-1",
                            "amount_minor": 50000,
                            "currency": "USD",
                            "purchase_ref": "enr-1",
                            "purchase_kind": "enrollment",
                            "description": "USMLE Step 1 Prep",
                            "name": "Paula Payer",
                            "email": "payer@example.org",
                            "status": "succeeded",
                            "created_at": "2026-02-21T09:00:00+00:00",
                        }
                    ],
                    "disputes": [
                        {
                            "dispute_id": "dp_1",
                            "stripe_dispute_id": "du_1",
                            "payment_id": "pay-9",
                            "amount_minor": 129900,
                            "currency": "USD",
                            "status": "needs_response",
                            "reason": "fraudulent",
                            "created_at": "2026-02-22T09:00:00+00:00",
                        }
                    ],
                    "flagged_events": [
                        {
                            "stripe_event_id": "evt_flagged_1",
                            "type": "payment_intent.succeeded",
                            "source": "webhook",
                            "outcome": "flagged: Stripe says 100 usd, the payment is 149900 USD",
                            "received_at": "2026-02-23T09:00:00+00:00",
                        }
                    ],
                }
            )
