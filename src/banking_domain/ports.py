"""What the use-cases need from the outside world, as structural protocols.

Every method may raise a `DependencyError` subclass; none returns a half-done
result.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from attrs import frozen

from banking_domain.model import Account, Card, Customer, CustomerId
from banking_domain.money import Money


@frozen
class TransferReceipt:
    transfer_id: str


@frozen
class CardBlockReceipt:
    case_reference: str
    already_blocked: bool
    replacement_ordered: bool


class AccountGateway(Protocol):
    """The bank's account service. Writes carry an idempotency key it dedupes by."""

    async def verify_caller(self, phone: str, pin: str) -> Customer | None: ...

    async def list_accounts(self, customer_id: CustomerId) -> Sequence[Account]: ...

    async def list_cards(self, customer_id: CustomerId) -> Sequence[Card]: ...

    async def transfer(
        self,
        customer_id: CustomerId,
        source: Account,
        target: Account,
        amount: Money,
        idempotency_key: str,
    ) -> TransferReceipt: ...

    async def block_card(
        self, customer_id: CustomerId, card: Card, idempotency_key: str
    ) -> CardBlockReceipt: ...


class SecretStore(Protocol):
    """Secrets by logical name (`SIGNING_KEY`, ...); the adapter maps names."""

    async def get(self, name: str) -> str: ...


class AuditLog(Protocol):
    """Where the use-cases report what they did; one record per outcome."""

    def record(self, event: object) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...
