"""The card step of checkout and the admin ledger at the payments service."""

from __future__ import annotations

from services.web.clients.base import ServiceClient, segment


class PaymentsClient(ServiceClient):
    """The card step of checkout and the admin ledger (enrollment asks for the intents)."""

    def __init__(self) -> None:
        super().__init__("payments")

    def pay_with_card(self, token: str, payment_id: str, card_token: str) -> dict:
        return self.call(
            "POST",
            f"/api/payments/{segment(payment_id)}/card",
            token=token,
            json={"token": card_token},
        )

    def ledger(self, token: str) -> dict:
        return self.call("GET", "/api/admin/ledger", token=token)
