"""Every sentence the bot speaks, for both channels, in the caller's locale.

``for_locale("es_US")`` gives the `Messages` of a locale; each of its methods
turns one domain outcome into `Speech`, and the channel adapters decide how it
is rendered. The words, and how amounts and dates are written, come from the
locale's catalogue (`adapters.locales`); this module only chooses which text to
say and fills it in. Questions end with what the caller should say next.

The upper-case names of old (``messages.ESCALATE``...) still give the English
texts, for code that has no turn to take a locale from.
"""

from __future__ import annotations

import functools
from typing import Final

from adapters import locales
from adapters.speech import Digits, Speech, Spelled, join_digits
from banking_domain.model import Account, AccountType
from banking_domain.money import MINOR_UNITS
from banking_domain.usecases import (
    BalanceNotReported,
    BalanceProblem,
    BalanceReported,
    CallerRefused,
    CallerVerified,
    CardBlocked,
    CardIssue,
    CardProblem,
    TransferCompleted,
    TransferField,
    TransferIssue,
    TransferProblem,
    ValidTransfer,
)

_ACCOUNT_NAMES: Final = {
    AccountType.CHECKING: "accounts.checking",
    AccountType.SAVINGS: "accounts.savings",
    AccountType.CREDIT: "accounts.credit",
}
_TRANSFER_REASONS: Final = {
    TransferProblem.UNKNOWN_ACCOUNT_TYPE: "unknown_account",
    TransferProblem.NO_SUCH_ACCOUNT: "no_such_account",
    TransferProblem.CREDIT_AS_SOURCE: "credit_as_source",
    TransferProblem.SAME_ACCOUNT: "same_account",
    TransferProblem.NOT_A_NUMBER: "not_a_number",
    TransferProblem.NOT_POSITIVE: "not_positive",
    TransferProblem.INSUFFICIENT_FUNDS: "insufficient_funds",
}
_CARD_QUESTIONS: Final = {
    CardProblem.WHICH_CARD: "which_card",
    CardProblem.UNKNOWN_CARD: "unknown_card",
}


class Messages:
    """What the bot says in one locale, from that locale's catalogue.

    The fixed sentences are built once; with `Speech`'s own cached renderings
    a help text costs a turn nothing but a lookup.
    """

    def __init__(self, catalogue: locales.Catalogue) -> None:
        self._catalogue = catalogue

    @property
    def locale(self) -> str:
        return self._catalogue.locale

    @functools.cached_property
    def help(self) -> Speech:
        return self._say("help")

    @functools.cached_property
    def not_understood(self) -> Speech:
        return self._say("not_understood") + self.help

    @functools.cached_property
    def verify_first(self) -> Speech:
        return self._say("verify_first")

    @functools.cached_property
    def escalate(self) -> Speech:
        return self._say("escalate")

    @functools.cached_property
    def cancelled(self) -> Speech:
        return self._say("cancelled")

    @functools.cached_property
    def ask_balance_account(self) -> Speech:
        return self._say("ask_balance_account")

    @functools.cached_property
    def ask_source(self) -> Speech:
        return self._say("ask_source")

    @functools.cached_property
    def ask_target(self) -> Speech:
        return self._say("ask_target")

    @functools.cached_property
    def ask_amount(self) -> Speech:
        return self._say("ask_amount")

    @functools.cached_property
    def ask_card(self) -> Speech:
        return self._say("ask_card")

    def account(self, account: Account) -> Speech:
        """``checking account ending in 4821``."""
        name = self._catalogue.text(_ACCOUNT_NAMES[account.account_type])
        return self._say("account", name=name, digits=Digits(account.last_four))

    def caller_verified(self, outcome: CallerVerified) -> Speech:
        return self._say("caller_verified", first_name=outcome.customer.first_name)

    def caller_refused(self, _: CallerRefused) -> Speech:
        return self._say("caller_refused")

    def balance(self, outcome: BalanceReported) -> Speech:
        acct = outcome.account
        said = self.account(acct)
        if acct.account_type is AccountType.CREDIT and acct.owed is not None:
            credit = outcome.credit_available
            if credit is None:
                return self._say("balance_owed", account=said, owed=acct.owed)
            return self._say(
                "balance_owed_and_credit", account=said, owed=acct.owed, credit=credit
            )
        return self._say("balance", account=said, amount=acct.available)

    def balance_problem(self, outcome: BalanceNotReported) -> Speech:
        if outcome.problem is BalanceProblem.NO_SUCH_ACCOUNT:
            return self._say("no_such_account") + self.ask_balance_account
        return self._say("which_account") + self.ask_balance_account

    def transfer_issue(self, issue: TransferIssue) -> Speech:
        """Why the answer cannot stand, followed by the question to ask again."""
        ask = {
            TransferField.SOURCE: self.ask_source,
            TransferField.TARGET: self.ask_target,
            TransferField.AMOUNT: self.ask_amount,
        }[issue.field]
        limit = issue.limit
        if issue.problem is TransferProblem.OVER_LIMIT and limit is not None:
            return self._say("over_limit", limit=limit) + ask
        if issue.problem is TransferProblem.TOO_MANY_DECIMALS and limit is not None:
            places = MINOR_UNITS[limit.currency]
            return self._say("too_many_decimals", places=places) + ask
        why = _TRANSFER_REASONS.get(issue.problem)
        return self._say(why) + ask if why else ask

    def confirm_transfer(self, transfer: ValidTransfer) -> Speech:
        return self._say(
            "confirm_transfer",
            amount=transfer.amount,
            source=self.account(transfer.source),
            target=self.account(transfer.target),
        )

    def transfer_completed(self, outcome: TransferCompleted) -> Speech:
        moved = outcome.transfer
        return self._say(
            "transfer_completed",
            amount=moved.amount,
            source=self.account(moved.source),
            target=self.account(moved.target),
            reference=Spelled(outcome.transfer_id),
        )

    def card_issue(self, issue: CardIssue) -> Speech:
        if issue.problem is CardProblem.NO_CARDS:
            return self._say("no_cards")
        key = _CARD_QUESTIONS.get(issue.problem)
        if key is not None:
            last = self._catalogue.text("messages.or")
            choices = Speech(join_digits(issue.choices, last))
            return self._say(key, choices=choices)
        return self._say("card_digits")

    def confirm_card_block(self, last_four: str) -> Speech:
        return self._say("confirm_card_block", card=Digits(last_four))

    def card_blocked(self, outcome: CardBlocked) -> Speech:
        card = Digits(outcome.card.last_four)
        if outcome.already_blocked:
            said = self._say("card_already_blocked", card=card)
        else:
            said = self._say("card_blocked", card=card)
        if outcome.replacement_ordered:
            said += self._say("replacement_ordered")
        reference = Spelled(outcome.case_reference)
        return said + self._say("case_reference", reference=reference)

    def _say(self, key: str, **values: locales.Value) -> Speech:
        return self._catalogue.speech(f"messages.{key}", **values)


@functools.cache
def _messages(locale: str) -> Messages:
    return Messages(locales.load(locale))


# Keyed by the locale as the event spells it: a few spellings recur.
@functools.lru_cache(maxsize=64)
def for_locale(locale: str | None) -> Messages:
    """The bot's words in `locale` (``es_US``, ``es-US``...); English if unknown."""
    return _messages(locales.locale_id(locale))


ENGLISH: Final = locales.DEFAULT

# The English constants of old, read on first use: ``messages.ESCALATE``.
_CONSTANTS: Final = frozenset(
    {
        "HELP",
        "NOT_UNDERSTOOD",
        "VERIFY_FIRST",
        "ESCALATE",
        "CANCELLED",
        "ASK_BALANCE_ACCOUNT",
        "ASK_SOURCE",
        "ASK_TARGET",
        "ASK_AMOUNT",
        "ASK_CARD",
    }
)


def __getattr__(name: str) -> Speech:
    if name not in _CONSTANTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    speech: Speech = getattr(for_locale(ENGLISH), name.lower())
    return speech
