"""Proof of identity that can travel through untrusted session attributes.

After a caller is verified, the service hands out a token: an HMAC-SHA256 over
the customer id and an expiry, keyed by a secret only the service knows. Lex
and Connect carry it along with the customer id; every protected use-case
checks it (in constant time) before touching any data. The token says nothing
without the key, and a changed customer id or expiry breaks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from attrs import field, frozen

from banking_domain.errors import NotAuthenticated
from banking_domain.model import CustomerId
from banking_domain.ports import Clock, SecretStore

SIGNING_KEY = "signing-key"
_VERSION = "v1"
_MAX_TOKEN_LENGTH = 200


@frozen
class Credentials:
    """What a channel claims about the caller; nothing in it is trusted yet."""

    customer_id: str | None
    token: str | None = field(repr=False)


@frozen
class IssuedToken:
    value: str = field(repr=False)
    expires_at: datetime


class CallerTokens:
    """Issues and checks caller tokens; the key is read through `SecretStore`."""

    def __init__(self, secrets: SecretStore, clock: Clock, lifetime: timedelta) -> None:
        self._secrets = secrets
        self._clock = clock
        self._lifetime = lifetime

    async def issue(self, customer_id: CustomerId) -> IssuedToken:
        expires_at = self._clock.now() + self._lifetime
        expiry = str(int(expires_at.timestamp()))
        mac = await self._mac(customer_id.value, expiry)
        return IssuedToken(f"{_VERSION}.{expiry}.{mac}", expires_at)

    async def authenticate(self, credentials: Credentials) -> CustomerId:
        """The customer the token proves, or `NotAuthenticated`."""
        customer_id, token = credentials.customer_id, credentials.token
        if not customer_id or not token or len(token) > _MAX_TOKEN_LENGTH:
            raise NotAuthenticated("no token")
        # Tokens are ASCII; a lone surrogate (valid JSON text, not UTF-8)
        # would otherwise fail the MAC's encoding instead of the check.
        if not token.isascii() or not _is_utf8(customer_id):
            raise NotAuthenticated("malformed token")
        version, _, rest = token.partition(".")
        expiry, _, mac = rest.partition(".")
        if version != _VERSION or not expiry.isdigit() or not mac:
            raise NotAuthenticated("malformed token")
        expected = await self._mac(customer_id, expiry)
        if not hmac.compare_digest(expected.encode(), mac.encode()):
            raise NotAuthenticated("forged token")
        if datetime.fromtimestamp(int(expiry), UTC) <= self._clock.now():
            raise NotAuthenticated("expired token")
        return CustomerId(customer_id)

    async def _mac(self, customer_id: str, expiry: str) -> str:
        key = await self._secrets.get(SIGNING_KEY)
        message = f"{_VERSION}|{customer_id}|{expiry}".encode()
        digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
