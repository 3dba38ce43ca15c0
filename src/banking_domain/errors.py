"""Errors the banking domain raises, and the ports raise on its behalf.

Business outcomes a caller can act on (an amount over the limit, an unknown card)
are not errors: the use-cases return them as results. Exceptions are kept for
what stops a use-case from reaching an outcome at all::

    BankingError
    ├── InvalidMoney            text or numbers that are not a valid amount
    ├── NotAuthenticated        no valid proof of identity for this caller
    ├── Declined                the bank refused a write for a business reason
    └── DependencyError         a port could not do its job; outcome unknown
        ├── DeadlineExceeded        the channel's time budget ran out
        ├── AccountServiceError     the account API failed or answered nonsense
        │   └── IdempotencyConflict     a key was reused with another request
        └── SecretUnavailable       a secret could not be read

Adapters translate library errors into `DependencyError` subclasses with
``raise ... from``, so each entrypoint maps them to a reply in one place.
"""

from __future__ import annotations


class BankingError(Exception):
    """Base of every error the domain and its ports raise."""


class InvalidMoney(BankingError, ValueError):
    """An amount or currency that must not become money."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAuthenticated(BankingError):
    """The caller has not proved who they are, or the proof is stale or forged."""


class Declined(BankingError):
    """The account API refused a write for a reason the caller can act on.

    `reason` is one of the domain's problem enums; the use-case that made the
    call turns it into a result.
    """

    def __init__(self, reason: object) -> None:
        super().__init__(str(reason))
        self.reason = reason


class DependencyError(BankingError):
    """A port failed; whether anything changed outside is not known."""


class DeadlineExceeded(DependencyError):
    """The turn ran out of time before the port answered."""


class AccountServiceError(DependencyError):
    """The account API was unreachable, failed, or answered something unusable."""


class IdempotencyConflict(AccountServiceError):
    """An idempotency key came back with a request other than its first one."""


class SecretUnavailable(DependencyError):
    """A secret could not be read and no earlier value may be used."""
