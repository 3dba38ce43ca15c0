"""Every sentence the bot speaks, for both channels (English).

Each function turns one domain outcome into `Speech`; the channel adapters
decide how it is rendered. Questions end with what the caller should say next.
"""

from __future__ import annotations

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

_ACCOUNT_NAMES = {
    AccountType.CHECKING: "checking account",
    AccountType.SAVINGS: "savings account",
    AccountType.CREDIT: "credit card account",
}

HELP = Speech.of(
    "I can tell you a balance, move money between your accounts, "
    "or block a lost card. What would you like to do?"
)
NOT_UNDERSTOOD = Speech.of("Sorry, I didn't get that.") + HELP
ANYTHING_ELSE = Speech.of("Is there anything else I can help with?")
VERIFY_FIRST = Speech.of(
    "For your security, I need to verify who you are before I can help with that."
)
ESCALATE = Speech.of(
    "Sorry, I can't complete that right now. Let me connect you with an agent."
)
CANCELLED = Speech.of("All right, I've cancelled that. Nothing was changed.")
ASK_BALANCE_ACCOUNT = Speech.of(
    "Which account would you like the balance for: checking, savings, or credit?"
)
ASK_SOURCE = Speech.of("Which account should the money come from: checking or savings?")
ASK_TARGET = Speech.of("Which account should the money go to?")
ASK_AMOUNT = Speech.of("How much would you like to transfer?")
ASK_CARD = Speech.of("What are the last four digits of the card you lost?")


def account(account: Account) -> Speech:
    """``checking account ending in 4821``."""
    name = _ACCOUNT_NAMES[account.account_type]
    return Speech.of(f"{name} ending in ", Digits(account.last_four))


def caller_verified(outcome: CallerVerified) -> Speech:
    return Speech.of(f"Thank you, {outcome.customer.first_name}. You're verified.")


def caller_refused(_: CallerRefused) -> Speech:
    return Speech.of(
        "Sorry, I couldn't verify you with that PIN for the number you're calling from."
    )


def balance(outcome: BalanceReported) -> Speech:
    acct = outcome.account
    if acct.account_type is AccountType.CREDIT and acct.owed is not None:
        said = Speech.of("Your") + account(acct)
        said += Speech.of("has a balance owed of ", acct.owed)
        credit = outcome.credit_available
        if credit is not None:
            said = said.then(", and ", credit, " of credit available")
        return said.then(".")
    said = Speech.of("Your") + account(acct)
    return said + Speech.of("has ", acct.available, " available.")


def balance_problem(outcome: BalanceNotReported) -> Speech:
    if outcome.problem is BalanceProblem.NO_SUCH_ACCOUNT:
        return Speech.of("I don't see an account of that type for you.") + (
            ASK_BALANCE_ACCOUNT
        )
    return Speech.of("I didn't catch which account.") + ASK_BALANCE_ACCOUNT


def transfer_issue(issue: TransferIssue) -> Speech:
    """Why the answer cannot stand, followed by the question to ask again."""
    ask = {
        TransferField.SOURCE: ASK_SOURCE,
        TransferField.TARGET: ASK_TARGET,
        TransferField.AMOUNT: ASK_AMOUNT,
    }[issue.field]
    why = _TRANSFER_REASONS.get(issue.problem)
    if issue.problem is TransferProblem.OVER_LIMIT and issue.limit is not None:
        return Speech.of("The most you can transfer at once is ", issue.limit, ".") + (
            ask
        )
    if issue.problem is TransferProblem.TOO_MANY_DECIMALS and issue.limit is not None:
        places = MINOR_UNITS[issue.limit.currency]
        return Speech.of(f"Amounts can have at most {places} decimal places.") + ask
    return Speech.of(why) + ask if why else ask


_TRANSFER_REASONS = {
    TransferProblem.UNKNOWN_ACCOUNT_TYPE: "I didn't recognise that account.",
    TransferProblem.NO_SUCH_ACCOUNT: "I don't see an account of that type for you.",
    TransferProblem.CREDIT_AS_SOURCE: "Transfers can't be paid from a credit card.",
    TransferProblem.SAME_ACCOUNT: (
        "The money has to go to a different account from the one it comes from."
    ),
    TransferProblem.NOT_A_NUMBER: "I didn't get the amount.",
    TransferProblem.NOT_POSITIVE: "The amount has to be more than zero.",
    TransferProblem.INSUFFICIENT_FUNDS: (
        "That's more than the money available in that account."
    ),
}


def confirm_transfer(transfer: ValidTransfer) -> Speech:
    said = Speech.of("You'd like to move ", transfer.amount, " from your")
    said += account(transfer.source)
    said += Speech.of("to your") + account(transfer.target)
    return said.then(". Shall I go ahead?")


def transfer_completed(outcome: TransferCompleted) -> Speech:
    moved = outcome.transfer
    said = Speech.of("Done. ", moved.amount, " has moved from your")
    said += account(moved.source)
    said += Speech.of("to your") + account(moved.target)
    return said.then(". Your reference is ", Spelled(outcome.transfer_id), ".")


def card_issue(issue: CardIssue) -> Speech:
    if issue.problem is CardProblem.NO_CARDS:
        return Speech.of("I don't see any cards on your profile.")
    if issue.problem is CardProblem.WHICH_CARD:
        choices = join_digits(issue.choices)
        return Speech.of("Which card is lost? The one ending in ", *choices, "?")
    if issue.problem is CardProblem.UNKNOWN_CARD:
        choices = join_digits(issue.choices)
        return Speech.of(
            "I couldn't find a card ending in those digits. Your cards end in ",
            *choices,
            ". Which one is lost?",
        )
    return Speech.of("Please say the last four digits of the card.")


def confirm_card_block(last_four: str) -> Speech:
    return Speech.of(
        "You'd like to block the card ending in ",
        Digits(last_four),
        " and order a replacement. Shall I go ahead?",
    )


def card_blocked(outcome: CardBlocked) -> Speech:
    card = Digits(outcome.card.last_four)
    if outcome.already_blocked:
        said = Speech.of("Your card ending in ", card, " was already blocked.")
    else:
        said = Speech.of("Your card ending in ", card, " is now blocked.")
    if outcome.replacement_ordered:
        said += Speech.of("A replacement is on its way.")
    reference = Spelled(outcome.case_reference)
    return said + Speech.of("Your case reference is ", reference, ".")
