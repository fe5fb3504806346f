"""Only a holder of SERVICE_SECRET can vouch for a client's address, and only for a minute."""

from __future__ import annotations

from shared import client_address


def test_a_vouched_address_reads_back_while_fresh():
    value = client_address.vouch("2001:db8::1", now=1_000_000)
    assert client_address.verified(value, now=1_000_030) == "2001:db8::1"


def test_a_forged_tampered_stale_or_malformed_value_is_not_believed(monkeypatch):
    good = client_address.vouch("203.0.113.7", now=1_000_000)
    assert client_address.verified(good.replace("203.0.113.7", "203.0.113.8"), 1_000_000) is None
    assert client_address.verified(good, now=1_000_000 + 61) is None
    for bad in ("", "203.0.113.7", "203.0.113.7 x y", f"{'a' * 65} 1000000 {'0' * 64}"):
        assert client_address.verified(bad, now=1_000_000) is None
    monkeypatch.setenv("SERVICE_SECRET", "another secret")
    assert client_address.verified(good, now=1_000_000) is None
