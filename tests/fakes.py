"""Hand-written fakes of the domain's ports: they keep state and record writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from banking_domain.errors import (
    AccountServiceError,
    Declined,
    IdempotencyConflict,
    SecretUnavailable,
)
from banking_domain.identity import SIGNING_KEY, CallerTokens
from banking_domain.model import (
    Account,
    AccountType,
    Card,
    CardStatus,
    Customer,
    CustomerId,
)
from banking_domain.money import Money
from banking_domain.ports import CardBlockReceipt, TransferReceipt
from banking_domain.usecases import (
    CheckBalance,
    ReportLostCard,
    TransferFunds,
    TransferProblem,
    UseCases,
    VerifyCaller,
)

ALEX = CustomerId("C-1001")
SAM = CustomerId("C-1002")


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


@attrs.define
class FakeCustomer:
    customer: Customer
    phone: str
    pin: str
    accounts: list[Account]
    cards: list[Card]


@attrs.define
class Write:
    kind: str
    key: str
    request: tuple[object, ...]
    result: object


class FakeAccountGateway:
    """The bank in a few dicts; `fail_with` makes every call raise that error."""

    def __init__(self, customers: Sequence[FakeCustomer] = ()) -> None:
        self.customers = {c.customer.customer_id: c for c in customers}
        self.writes: list[Write] = []
        self._by_key: dict[tuple[CustomerId, str], Write] = {}
        self.fail_with: Exception | None = None
        self.calls = 0

    @classmethod
    def with_demo_customers(cls) -> FakeAccountGateway:
        return cls([alex(), sam()])

    async def verify_caller(self, phone: str, pin: str) -> Customer | None:
        self._enter()
        for known in self.customers.values():
            if known.phone == phone and known.pin == pin:
                return known.customer
        return None

    async def list_accounts(self, customer_id: CustomerId) -> Sequence[Account]:
        self._enter()
        return list(self._customer(customer_id).accounts)

    async def list_cards(self, customer_id: CustomerId) -> Sequence[Card]:
        self._enter()
        return list(self._customer(customer_id).cards)

    async def transfer(
        self,
        customer_id: CustomerId,
        source: Account,
        target: Account,
        amount: Money,
        idempotency_key: str,
    ) -> TransferReceipt:
        self._enter()
        request = (source.account_id, target.account_id, amount)
        replay = self._replay(customer_id, idempotency_key, "transfer", request)
        if replay is not None:
            assert isinstance(replay, TransferReceipt)
            return replay
        known = self._customer(customer_id)
        current = {a.account_id: a for a in known.accounts}
        if source.account_id == target.account_id:
            raise Declined(TransferProblem.SAME_ACCOUNT)
        if current[source.account_id].account_type is AccountType.CREDIT:
            raise Declined(TransferProblem.CREDIT_AS_SOURCE)
        if amount > current[source.account_id].available:
            raise Declined(TransferProblem.INSUFFICIENT_FUNDS)
        self._adjust(known, source.account_id, Money.zero(amount.currency) - amount)
        self._adjust(known, target.account_id, amount)
        receipt = TransferReceipt(f"T-{len(self.writes) + 1:06d}")
        self._store(customer_id, idempotency_key, "transfer", request, receipt)
        return receipt

    async def block_card(
        self, customer_id: CustomerId, card: Card, idempotency_key: str
    ) -> CardBlockReceipt:
        self._enter()
        request = (card.card_id,)
        replay = self._replay(customer_id, idempotency_key, "block", request)
        if replay is not None:
            assert isinstance(replay, CardBlockReceipt)
            return replay
        known = self._customer(customer_id)
        index = next(i for i, c in enumerate(known.cards) if c.card_id == card.card_id)
        already = known.cards[index].status is CardStatus.BLOCKED
        known.cards[index] = attrs.evolve(card, status=CardStatus.BLOCKED)
        receipt = CardBlockReceipt(f"L-{len(self.writes) + 1:06d}", already, True)
        self._store(customer_id, idempotency_key, "block", request, receipt)
        return receipt

    def _enter(self) -> None:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with

    def _customer(self, customer_id: CustomerId) -> FakeCustomer:
        try:
            return self.customers[customer_id]
        except KeyError:
            raise AccountServiceError("unknown customer") from None

    def _replay(
        self, customer_id: CustomerId, key: str, kind: str, request: tuple[object, ...]
    ) -> object | None:
        earlier = self._by_key.get((customer_id, key))
        if earlier is None:
            return None
        if earlier.kind != kind or earlier.request != request:
            raise IdempotencyConflict("key reused with another request")
        return earlier.result

    def _store(
        self,
        customer_id: CustomerId,
        key: str,
        kind: str,
        request: tuple[object, ...],
        result: object,
    ) -> None:
        write = Write(kind, key, request, result)
        self.writes.append(write)
        self._by_key[(customer_id, key)] = write

    @staticmethod
    def _adjust(known: FakeCustomer, account_id: str, delta: Money) -> None:
        for index, account in enumerate(known.accounts):
            if account.account_id != account_id:
                continue
            if account.owed is not None:
                owed = account.owed - delta
                known.accounts[index] = attrs.evolve(
                    account, owed=owed, available=account.available + delta
                )
            else:
                available = account.available + delta
                known.accounts[index] = attrs.evolve(account, available=available)


def alex() -> FakeCustomer:
    return FakeCustomer(
        customer=Customer(ALEX, "Alex"),
        phone="+15555550100",
        pin="2468",
        accounts=[
            Account("acc-alex-chk", AccountType.CHECKING, "4821", usd("2450.13")),
            Account("acc-alex-sav", AccountType.SAVINGS, "7730", usd("10200.00")),
            Account(
                "acc-alex-cc",
                AccountType.CREDIT,
                "0019",
                available=usd("4684.60"),
                owed=usd("315.40"),
                credit_limit=usd("5000.00"),
            ),
        ],
        cards=[
            Card("card-alex-debit", "5511", "debit", CardStatus.ACTIVE),
            Card("card-alex-credit", "0019", "credit", CardStatus.ACTIVE),
        ],
    )


def sam() -> FakeCustomer:
    return FakeCustomer(
        customer=Customer(SAM, "Sam"),
        phone="+15555550101",
        pin="1357",
        accounts=[
            Account("acc-sam-chk", AccountType.CHECKING, "1200", usd("85.00")),
        ],
        cards=[Card("card-sam-debit", "9090", "debit", CardStatus.ACTIVE)],
    )


class FakeSecretStore:
    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {SIGNING_KEY: "test-signing-key-not-secret"})
        self.reads = 0

    async def get(self, name: str) -> str:
        self.reads += 1
        try:
            return self.values[name]
        except KeyError:
            raise SecretUnavailable(f"no secret named {name}") from None


class RecordingAuditLog:
    def __init__(self) -> None:
        self.records: list[object] = []

    def record(self, event: object) -> None:
        self.records.append(event)

    def of_type(self, kind: type) -> list[object]:
        return [r for r in self.records if isinstance(r, kind)]


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@attrs.define
class Bank:
    """The domain wired to fakes, with the fakes at hand for assertions."""

    gateway: FakeAccountGateway
    secrets: FakeSecretStore
    audit: RecordingAuditLog
    clock: FixedClock
    tokens: CallerTokens
    use_cases: UseCases


def fake_bank(limit: Decimal = Decimal("10000.00")) -> Bank:
    gateway = FakeAccountGateway.with_demo_customers()
    secrets, audit, clock = FakeSecretStore(), RecordingAuditLog(), FixedClock()
    tokens = CallerTokens(secrets, clock, timedelta(minutes=15))
    use_cases = UseCases(
        verify_caller=VerifyCaller(gateway, tokens, audit),
        check_balance=CheckBalance(gateway, tokens, audit),
        transfer_funds=TransferFunds(gateway, tokens, audit, limit),
        report_lost_card=ReportLostCard(gateway, tokens, audit),
    )
    return Bank(gateway, secrets, audit, clock, tokens, use_cases)
