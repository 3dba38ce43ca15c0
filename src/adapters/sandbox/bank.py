"""The sandbox bank's books: demo customers, their accounts and cards, and the
rules of the account API that depend on state (PIN lockout, idempotent writes,
funds). No HTTP here: `adapters.sandbox.app` puts the bank on the wire.

Every account and card has a full number, as a real bank's would; the books
keep it to themselves and answer with opaque ids and the last four digits, so
a full number in a log line can only come from a leak.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Final

from attrs import define, field, frozen

from banking_domain.money import MINOR_UNITS

DEVELOPMENT_API_KEY: Final = "bankbot-sandbox-api-key-DEVELOPMENT-ONLY"
DEVELOPMENT_SIGNING_KEY: Final = "bankbot-sandbox-signing-key-DEVELOPMENT-ONLY"

# Wrong PINs for one phone number before the bank refuses it altogether.
MAX_WRONG_PINS: Final = 5


@define
class SandboxAccount:
    account_id: str
    number: str = field(repr=False)
    type: str
    currency: str
    available: Decimal
    # Credit accounts only; `available` is then the credit still available.
    owed: Decimal | None = None
    credit_limit: Decimal | None = None

    @property
    def last_four(self) -> str:
        return self.number[-4:]


@define
class SandboxCard:
    card_id: str
    number: str = field(repr=False)
    kind: str
    status: str = "active"
    case_reference: str | None = None
    replacement_ordered: bool = False

    @property
    def last_four(self) -> str:
        return self.number[-4:]


@define
class SandboxCustomer:
    customer_id: str
    first_name: str
    last_name: str
    phone: str
    pin: str = field(repr=False)
    accounts: list[SandboxAccount]
    cards: list[SandboxCard]


@frozen
class Reply:
    """An answer of the API: status and JSON body, kept as is for replays."""

    status: int
    body: Mapping[str, object]


class Refused(Exception):
    """The bank says no; becomes the API's error body with this status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def reply(self) -> Reply:
        return Reply(
            self.status, {"error": {"code": self.code, "message": self.message}}
        )


@frozen
class LedgerEntry:
    """One write the bank carried out; replays of a key add nothing."""

    kind: str
    customer_id: str
    reference: str
    idempotency_key: str


@frozen
class _Stored:
    fingerprint: str
    reply: Reply


class SandboxBank:
    """In-memory books for the sandbox; writes are serialised by one lock.

    Build it inside the event loop that will use it, or before any loop runs:
    its lock belongs to the first loop that waits on it.
    """

    def __init__(self, customers: Iterable[SandboxCustomer] | None = None) -> None:
        chosen = demo_customers() if customers is None else customers
        self._customers = {c.customer_id: c for c in chosen}
        self._by_phone = {c.phone: c for c in self._customers.values()}
        self._wrong_pins: dict[str, int] = {}
        self._stored: dict[tuple[str, str], _Stored] = {}
        self._numbers = itertools.count(100001)
        self._lock = asyncio.Lock()
        self.ledger: list[LedgerEntry] = []

    def customer(self, customer_id: str) -> SandboxCustomer:
        try:
            return self._customers[customer_id]
        except KeyError:
            raise Refused(404, "not_found", "no such customer") from None

    # ------------------------------------------------------------- reads

    async def verify(self, phone: str, pin: str) -> Reply:
        async with self._lock:
            if self._wrong_pins.get(phone, 0) >= MAX_WRONG_PINS:
                raise Refused(423, "locked", "too many wrong PINs for this phone")
            known = self._by_phone.get(phone)
            if known is None or not _same(known.pin, pin):
                self._wrong_pins[phone] = self._wrong_pins.get(phone, 0) + 1
                raise Refused(401, "invalid_credentials", "phone and PIN do not match")
            self._wrong_pins.pop(phone, None)
        return Reply(
            200, {"customerId": known.customer_id, "firstName": known.first_name}
        )

    def accounts(self, customer_id: str) -> Reply:
        accounts = [_account_json(a) for a in self.customer(customer_id).accounts]
        return Reply(200, {"accounts": accounts})

    def cards(self, customer_id: str) -> Reply:
        cards = [_card_json(c) for c in self.customer(customer_id).cards]
        return Reply(200, {"cards": cards})

    # ------------------------------------------------------------ writes

    async def once(
        self,
        customer_id: str,
        key: str,
        fingerprint: str,
        write: Callable[[], Reply],
    ) -> Reply:
        """Runs `write` the first time a key is seen; later, its stored reply.

        A refusal `write` raises is the outcome of that key too, and is stored
        like a success: asking again with the same key changes nothing.
        """
        self.customer(customer_id)
        async with self._lock:
            stored = self._stored.get((customer_id, key))
            if stored is not None:
                if not hmac.compare_digest(stored.fingerprint, fingerprint):
                    raise Refused(
                        422, "idempotency_conflict", "key used for another request"
                    )
                return stored.reply
            try:
                reply = write()
            except Refused as refused:
                reply = refused.reply()
            self._stored[(customer_id, key)] = _Stored(fingerprint, reply)
            return reply

    def transfer(
        self,
        customer_id: str,
        key: str,
        *,
        source_id: str,
        target_id: str,
        amount: Decimal,
        currency: str,
    ) -> Reply:
        """Moves money; call it through `once`, which holds the lock."""
        customer = self.customer(customer_id)
        source = _account(customer, source_id)
        target = _account(customer, target_id)
        if source.type == "credit":
            raise Refused(422, "credit_as_source", "a credit account cannot pay out")
        if source is target:
            raise Refused(422, "same_account", "source and target are one account")
        if currency != source.currency or currency != target.currency:
            raise Refused(422, "invalid_amount", "currency differs from the accounts'")
        if amount > source.available:
            raise Refused(422, "insufficient_funds", "not enough money available")

        source.available -= amount
        target.available += amount
        if target.owed is not None:
            # A payment to a credit account lowers what is owed.
            target.owed -= amount

        reference = f"T-{next(self._numbers)}"
        self.ledger.append(LedgerEntry("transfer", customer_id, reference, key))
        return Reply(201, {"transferId": reference})

    def block_card(
        self, customer_id: str, key: str, card_id: str, order_replacement: bool
    ) -> Reply:
        """Blocks a card; call it through `once`, which holds the lock."""
        customer = self.customer(customer_id)
        card = next((c for c in customer.cards if c.card_id == card_id), None)
        if card is None:
            raise Refused(404, "not_found", "no such card for this customer")

        already = card.status == "blocked"
        card.status = "blocked"
        card.replacement_ordered = card.replacement_ordered or order_replacement
        if card.case_reference is None:
            card.case_reference = f"L-{next(self._numbers)}"
        reference = card.case_reference

        self.ledger.append(LedgerEntry("block", customer_id, reference, key))
        return Reply(
            200,
            {
                "caseReference": reference,
                "alreadyBlocked": already,
                "replacementOrdered": card.replacement_ordered,
            },
        )


def amount_text(amount: Decimal, currency: str) -> str:
    """The amount as the API writes it: a string with the currency's decimals."""
    return f"{amount:.{MINOR_UNITS[currency]}f}"


def _account(customer: SandboxCustomer, account_id: str) -> SandboxAccount:
    found = next((a for a in customer.accounts if a.account_id == account_id), None)
    if found is None:
        raise Refused(404, "not_found", "no such account for this customer")
    return found


def _account_json(account: SandboxAccount) -> dict[str, object]:
    body: dict[str, object] = {
        "accountId": account.account_id,
        "type": account.type,
        "lastFour": account.last_four,
        "currency": account.currency,
        "available": amount_text(account.available, account.currency),
    }
    if account.owed is not None:
        body["owed"] = amount_text(account.owed, account.currency)
    if account.credit_limit is not None:
        body["creditLimit"] = amount_text(account.credit_limit, account.currency)
    return body


def _card_json(card: SandboxCard) -> dict[str, object]:
    return {
        "cardId": card.card_id,
        "lastFour": card.last_four,
        "kind": card.kind,
        "status": card.status,
    }


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def demo_customers() -> list[SandboxCustomer]:
    """The demo data every sandbox starts from; a fresh copy on each call."""
    return [
        SandboxCustomer(
            customer_id="C-1001",
            first_name="Alex",
            last_name="Morgan",
            phone="+15555550100",
            pin="2468",
            accounts=[
                SandboxAccount(
                    "acc-alex-chk",
                    "731902644821",
                    "checking",
                    "USD",
                    Decimal("2450.13"),
                ),
                SandboxAccount(
                    "acc-alex-sav",
                    "731902657730",
                    "savings",
                    "USD",
                    Decimal("10200.00"),
                ),
                SandboxAccount(
                    "acc-alex-cc",
                    "731902660019",
                    "credit",
                    "USD",
                    available=Decimal("4684.60"),
                    owed=Decimal("315.40"),
                    credit_limit=Decimal("5000.00"),
                ),
            ],
            cards=[
                SandboxCard("card-alex-debit", "4147209935125511", "debit"),
                SandboxCard("card-alex-credit", "5412830066170019", "credit"),
            ],
        ),
        SandboxCustomer(
            customer_id="C-1002",
            first_name="Sam",
            last_name="Rivera",
            phone="+15555550101",
            pin="1357",
            accounts=[
                SandboxAccount(
                    "acc-sam-chk", "731903081200", "checking", "USD", Decimal("85.00")
                ),
            ],
            cards=[SandboxCard("card-sam-debit", "4147209941769090", "debit")],
        ),
    ]


def sensitive_values() -> tuple[str, ...]:
    """What must never be logged: PINs, development keys, full numbers.

    Phone numbers are left out on purpose: they are not secret, and the last
    four digits of one may be logged.
    """
    values = {DEVELOPMENT_API_KEY, DEVELOPMENT_SIGNING_KEY}
    for customer in demo_customers():
        values.add(customer.pin)
        values.update(account.number for account in customer.accounts)
        values.update(card.number for card in customer.cards)
    return tuple(sorted(values))
