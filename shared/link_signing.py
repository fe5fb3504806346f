"""Signed, expiring tokens for links in emails (itsdangerous), under every SECRET_KEY in use.

The newest key signs; the previous ones (``SECRET_KEY_FALLBACKS``) still verify, so rotating
``SECRET_KEY`` leaves the links already sent working until their fallback is dropped. Each
purpose has its own salt, so a token made for one link is refused by every other.
"""

from __future__ import annotations

from collections.abc import Sequence

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from shared import config


def checked_keys(keys: Sequence[str]) -> list[str]:
    """``keys`` as a list, current first; a bare string would be read as one key per letter."""
    if isinstance(keys, str | bytes) or not keys:
        raise TypeError("give the secret keys as a non-empty list, the current key first")
    return list(keys)


def link_serializer(
    salt: str, *, keys: Sequence[str] | None = None, issued_at: float | None = None
) -> URLSafeTimedSerializer:
    """A serializer for one purpose (``salt``).

    ``keys`` are the current key first, then the fallbacks (``config.secret_keys()`` unless
    given). ``issued_at`` (epoch seconds) backdates the tokens it makes, which is how tests see
    one expire.
    """
    current_first = checked_keys(keys if keys is not None else config.secret_keys())
    # itsdangerous takes its keys oldest to newest: the last one signs, all of them verify.
    oldest_first = list(reversed(current_first))
    if issued_at is None:
        return URLSafeTimedSerializer(oldest_first, salt=salt)

    class IssuedAt(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(issued_at)

    return URLSafeTimedSerializer(oldest_first, salt=salt, signer=IssuedAt)
