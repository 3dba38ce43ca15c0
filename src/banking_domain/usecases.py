"""The four things a caller can do, and the rules each one follows.

Every use-case but `VerifyCaller` first authenticates the caller's credentials;
without a valid token it raises `NotAuthenticated` before reading anything.
Outcomes a caller can act on are returned as results (past tense names); each
one is also reported through the audit log. Requests carry the caller's words
as given (``"Savings"``, ``"1,200.50"``): reading them is part of the rules.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from decimal import Decimal

from attrs import frozen

from banking_domain.errors import Declined, InvalidMoney
from banking_domain.identity import CallerTokens, Credentials, IssuedToken
from banking_domain.model import Account, AccountType, Card, Customer
from banking_domain.money import MINOR_UNITS, Money, decimal_places, read_amount
from banking_domain.ports import AccountGateway, AuditLog

DEFAULT_TRANSFER_LIMIT = Decimal("10000.00")

_PIN = re.compile(r"[0-9]{4,8}")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_LAST_FOUR = re.compile(r"[0-9]{4}")
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class _UseCase:
    """What every use-case works with: the bank, the caller's tokens, the audit."""

    def __init__(
        self, accounts: AccountGateway, tokens: CallerTokens, audit: AuditLog
    ) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._audit = audit


# ---------------------------------------------------------------- VerifyCaller


class RefusalReason(enum.Enum):
    MALFORMED_INPUT = "malformed_input"
    WRONG_CREDENTIALS = "wrong_credentials"


@frozen
class CallerVerified:
    customer: Customer
    token: IssuedToken


@frozen
class CallerRefused:
    reason: RefusalReason
    phone_last_four: str


class VerifyCaller(_UseCase):
    """Checks a caller's phone number and PIN with the bank; issues a token."""

    async def __call__(self, phone: str, pin: str) -> CallerVerified | CallerRefused:
        outcome = await self._verify(phone, pin)
        self._audit.record(outcome)
        return outcome

    async def _verify(self, phone: str, pin: str) -> CallerVerified | CallerRefused:
        last_four = phone[-4:] if isinstance(phone, str) else ""
        if not _is(_PHONE, phone) or not _is(_PIN, pin):
            return CallerRefused(RefusalReason.MALFORMED_INPUT, last_four)
        customer = await self._accounts.verify_caller(phone, pin)
        if customer is None:
            return CallerRefused(RefusalReason.WRONG_CREDENTIALS, last_four)
        token = await self._tokens.issue(customer.customer_id)
        return CallerVerified(customer, token)


# ---------------------------------------------------------------- CheckBalance


class BalanceProblem(enum.Enum):
    UNKNOWN_ACCOUNT_TYPE = "unknown_account_type"
    NO_SUCH_ACCOUNT = "no_such_account"


@frozen
class BalanceReported:
    account: Account

    @property
    def credit_available(self) -> Money | None:
        owed, limit = self.account.owed, self.account.credit_limit
        if owed is None or limit is None:
            return None
        return limit - owed


@frozen
class BalanceNotReported:
    problem: BalanceProblem


class CheckBalance(_UseCase):
    """The available balance of one of the caller's accounts, by type."""

    async def __call__(
        self, credentials: Credentials, account_type: str | None
    ) -> BalanceReported | BalanceNotReported:
        outcome = await self._look_up(credentials, account_type)
        self._audit.record(outcome)
        return outcome

    async def _look_up(
        self, credentials: Credentials, account_type: str | None
    ) -> BalanceReported | BalanceNotReported:
        customer_id = await self._tokens.authenticate(credentials)
        wanted = AccountType.parse(account_type)
        if wanted is None:
            return BalanceNotReported(BalanceProblem.UNKNOWN_ACCOUNT_TYPE)
        accounts = await self._accounts.list_accounts(customer_id)
        # A customer with two accounts of one type hears the first the bank
        # lists; choosing between them needs a slot the bot does not have yet.
        account = _first_of_type(accounts, wanted)
        if account is None:
            return BalanceNotReported(BalanceProblem.NO_SUCH_ACCOUNT)
        return BalanceReported(account)


# --------------------------------------------------------------- TransferFunds


class TransferField(enum.Enum):
    SOURCE = "source"
    TARGET = "target"
    AMOUNT = "amount"


class TransferProblem(enum.Enum):
    MISSING = "missing"
    UNKNOWN_ACCOUNT_TYPE = "unknown_account_type"
    NO_SUCH_ACCOUNT = "no_such_account"
    CREDIT_AS_SOURCE = "credit_as_source"
    SAME_ACCOUNT = "same_account"
    NOT_A_NUMBER = "not_a_number"
    NOT_POSITIVE = "not_positive"
    TOO_MANY_DECIMALS = "too_many_decimals"
    OVER_LIMIT = "over_limit"
    INSUFFICIENT_FUNDS = "insufficient_funds"


@frozen
class TransferRequest:
    """A transfer as the caller has described it so far; any part may be absent."""

    source: str | None
    target: str | None
    amount: str | None


@frozen
class TransferIssue:
    field: TransferField
    problem: TransferProblem
    limit: Money | None = None


@frozen
class ValidTransfer:
    source: Account
    target: Account
    amount: Money


def check_transfer(
    request: TransferRequest,
    accounts: Sequence[Account],
    limit: Decimal,
    *,
    check_funds: bool = True,
) -> TransferIssue | ValidTransfer | None:
    """The first rule the request breaks, else the transfer when it is complete.

    Parts not given yet are skipped, so the dialog can check each answer as it
    comes; None means nothing is wrong but something is still missing. Without
    `check_funds` the available balance is left to the bank.
    """
    source = _transfer_account(request.source, accounts, TransferField.SOURCE)
    if isinstance(source, TransferIssue):
        return source
    if source is not None and source.account_type is AccountType.CREDIT:
        return TransferIssue(TransferField.SOURCE, TransferProblem.CREDIT_AS_SOURCE)
    target = _transfer_account(request.target, accounts, TransferField.TARGET)
    if isinstance(target, TransferIssue):
        return target
    if source is not None and target is not None and source == target:
        return TransferIssue(TransferField.TARGET, TransferProblem.SAME_ACCOUNT)
    funded_by = source if check_funds else None
    amount = _transfer_amount(request.amount, source, funded_by, accounts, limit)
    if isinstance(amount, TransferIssue):
        return amount
    if source is None or target is None or amount is None:
        return None
    return ValidTransfer(source, target, amount)


@frozen
class TransferCompleted:
    transfer: ValidTransfer
    transfer_id: str


@frozen
class TransferRejected:
    issue: TransferIssue


class TransferFunds(_UseCase):
    """Moves money between two of the caller's own accounts, once per key."""

    def __init__(
        self,
        accounts: AccountGateway,
        tokens: CallerTokens,
        audit: AuditLog,
        limit: Decimal = DEFAULT_TRANSFER_LIMIT,
    ) -> None:
        super().__init__(accounts, tokens, audit)
        self._limit = limit

    async def check(
        self, credentials: Credentials, request: TransferRequest
    ) -> TransferIssue | ValidTransfer | None:
        """`check_transfer` against the caller's accounts as they are now."""
        customer_id = await self._tokens.authenticate(credentials)
        accounts = await self._accounts.list_accounts(customer_id)
        return check_transfer(request, accounts, self._limit)

    async def __call__(
        self, credentials: Credentials, request: TransferRequest, idempotency_key: str
    ) -> TransferCompleted | TransferRejected:
        _require_key(idempotency_key)
        customer_id = await self._tokens.authenticate(credentials)

        # The balance is checked by the bank as it writes, not here: a replayed
        # request must get its first answer even when that transfer used the
        # funds up. Every other rule is checked again (an earlier turn proves
        # nothing).
        accounts = await self._accounts.list_accounts(customer_id)
        checked = check_transfer(request, accounts, self._limit, check_funds=False)
        if checked is None:
            checked = _first_missing(request)
        if isinstance(checked, TransferIssue):
            return self._report(TransferRejected(checked))

        try:
            receipt = await self._accounts.transfer(
                customer_id,
                checked.source,
                checked.target,
                checked.amount,
                idempotency_key,
            )
        except Declined as declined:
            problem = _as_transfer_problem(declined.reason)
            return self._report(
                TransferRejected(TransferIssue(TransferField.AMOUNT, problem))
            )
        return self._report(TransferCompleted(checked, receipt.transfer_id))

    def _report(
        self, outcome: TransferCompleted | TransferRejected
    ) -> TransferCompleted | TransferRejected:
        self._audit.record(outcome)
        return outcome


def _transfer_account(
    words: str | None, accounts: Sequence[Account], field: TransferField
) -> Account | TransferIssue | None:
    if words is None:
        return None
    wanted = AccountType.parse(words)
    if wanted is None:
        return TransferIssue(field, TransferProblem.UNKNOWN_ACCOUNT_TYPE)
    account = _first_of_type(accounts, wanted)
    if account is None:
        return TransferIssue(field, TransferProblem.NO_SUCH_ACCOUNT)
    return account


def _transfer_amount(
    words: str | None,
    source: Account | None,
    funded_by: Account | None,
    accounts: Sequence[Account],
    limit: Decimal,
) -> Money | TransferIssue | None:
    if words is None:
        return None
    currency = _transfer_currency(source, accounts)
    cap = Money(limit, currency)

    def issue(problem: TransferProblem) -> TransferIssue:
        return TransferIssue(TransferField.AMOUNT, problem, cap)

    try:
        value = read_amount(words)
    except InvalidMoney:
        return issue(TransferProblem.NOT_A_NUMBER)
    if not value.is_finite():
        return issue(TransferProblem.NOT_A_NUMBER)
    if value <= 0:
        return issue(TransferProblem.NOT_POSITIVE)
    if decimal_places(value) > MINOR_UNITS[currency]:
        return issue(TransferProblem.TOO_MANY_DECIMALS)
    amount = Money(value, currency)
    if amount > cap:
        return issue(TransferProblem.OVER_LIMIT)
    if funded_by is not None and amount > funded_by.available:
        return issue(TransferProblem.INSUFFICIENT_FUNDS)
    return amount


def _transfer_currency(source: Account | None, accounts: Sequence[Account]) -> str:
    if source is not None:
        return source.currency
    return accounts[0].currency if accounts else "USD"


def _first_missing(request: TransferRequest) -> TransferIssue:
    for field, value in (
        (TransferField.SOURCE, request.source),
        (TransferField.TARGET, request.target),
    ):
        if value is None:
            return TransferIssue(field, TransferProblem.MISSING)
    return TransferIssue(TransferField.AMOUNT, TransferProblem.MISSING)


def _as_transfer_problem(reason: object) -> TransferProblem:
    if isinstance(reason, TransferProblem):
        return reason
    return TransferProblem.INSUFFICIENT_FUNDS


# -------------------------------------------------------------- ReportLostCard


class CardProblem(enum.Enum):
    NOT_FOUR_DIGITS = "not_four_digits"
    UNKNOWN_CARD = "unknown_card"
    WHICH_CARD = "which_card"
    NO_CARDS = "no_cards"


@frozen
class CardIssue:
    problem: CardProblem
    # The caller's cards, by last four, when they must pick one.
    choices: tuple[str, ...] = ()


@frozen
class CardBlocked:
    card: Card
    case_reference: str
    already_blocked: bool
    replacement_ordered: bool


@frozen
class CardNotBlocked:
    issue: CardIssue


def choose_card(last_four: str | None, cards: Sequence[Card]) -> Card | CardIssue:
    """The card the caller means: by its last four digits, or their only card."""
    if not cards:
        return CardIssue(CardProblem.NO_CARDS)
    choices = tuple(card.last_four for card in cards)
    if last_four is None:
        if len(cards) == 1:
            return cards[0]
        return CardIssue(CardProblem.WHICH_CARD, choices)
    digits = "".join(last_four.split())
    if not _is(_LAST_FOUR, digits):
        return CardIssue(CardProblem.NOT_FOUR_DIGITS, choices)
    matches = [card for card in cards if card.last_four == digits]
    if not matches:
        return CardIssue(CardProblem.UNKNOWN_CARD, choices)
    return matches[0]


class ReportLostCard(_UseCase):
    """Blocks a lost card and orders its replacement; blocking twice is fine."""

    async def check(
        self, credentials: Credentials, last_four: str | None
    ) -> Card | CardIssue:
        customer_id = await self._tokens.authenticate(credentials)
        return choose_card(last_four, await self._accounts.list_cards(customer_id))

    async def __call__(
        self, credentials: Credentials, last_four: str | None, idempotency_key: str
    ) -> CardBlocked | CardNotBlocked:
        _require_key(idempotency_key)
        customer_id = await self._tokens.authenticate(credentials)

        card = choose_card(last_four, await self._accounts.list_cards(customer_id))
        if isinstance(card, CardIssue):
            outcome: CardBlocked | CardNotBlocked = CardNotBlocked(card)
        else:
            receipt = await self._accounts.block_card(
                customer_id, card, idempotency_key
            )
            # The bank's word, not the card's status now: on a replay the card
            # is blocked by the first request, and the caller must hear its answer.
            outcome = CardBlocked(
                card,
                receipt.case_reference,
                receipt.already_blocked,
                receipt.replacement_ordered,
            )

        self._audit.record(outcome)
        return outcome


# ------------------------------------------------------------------- helpers


def _first_of_type(accounts: Sequence[Account], wanted: AccountType) -> Account | None:
    return next((a for a in accounts if a.account_type is wanted), None)


def _is(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _require_key(key: str) -> None:
    if not _is(_IDEMPOTENCY_KEY, key):
        raise ValueError("a write needs an idempotency key of 8 to 128 safe characters")


@frozen
class UseCases:
    """Everything a channel adapter may ask of the domain, built once."""

    verify_caller: VerifyCaller
    check_balance: CheckBalance
    transfer_funds: TransferFunds
    report_lost_card: ReportLostCard
