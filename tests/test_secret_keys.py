"""SECRET_KEY and SECRET_KEY_FALLBACKS: which keys sign and which only verify."""

from __future__ import annotations

import pytest
from itsdangerous import BadSignature

from shared import config
from shared.link_signing import link_serializer


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch):
    def set_keys(current: str, fallbacks: str | None = None) -> None:
        monkeypatch.setenv("SECRET_KEY", current)
        if fallbacks is None:
            monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)
        else:
            monkeypatch.setenv("SECRET_KEY_FALLBACKS", fallbacks)

    return set_keys


def test_without_fallbacks_only_the_current_key_is_in_use(keys):
    keys("current")
    assert config.secret_key_fallbacks() == []
    assert config.secret_keys() == ["current"]


def test_fallbacks_are_separated_by_commas_or_whitespace_and_keep_their_order(keys):
    keys("current", " previous, older\n oldest ,,")
    assert config.secret_keys() == ["current", "previous", "older", "oldest"]


def test_the_current_key_and_repeats_are_not_listed_again_as_fallbacks(keys):
    keys("current", "previous current previous")
    assert config.secret_keys() == ["current", "previous"]


def test_a_link_signed_before_a_rotation_verifies_only_while_its_key_is_a_fallback(keys):
    keys("old")
    token = link_serializer("test.purpose").dumps({"n": 1})
    keys("new", "old")
    assert link_serializer("test.purpose").loads(token, max_age=60) == {"n": 1}
    keys("new")
    with pytest.raises(BadSignature):
        link_serializer("test.purpose").loads(token, max_age=60)


def test_links_made_after_a_rotation_are_signed_with_the_new_key(keys):
    keys("new", "old")
    token = link_serializer("test.purpose").dumps({"n": 2})
    keys("new")
    assert link_serializer("test.purpose").loads(token, max_age=60) == {"n": 2}
    keys("old")
    with pytest.raises(BadSignature):
        link_serializer("test.purpose").loads(token, max_age=60)
