"""What the bot says per locale: the catalogues, their formats, and the replies
both channels send in English and in Spanish."""

from __future__ import annotations

import ast
import datetime
import inspect
from decimal import Decimal
from typing import Any

import pytest

from adapters import locales, messages
from adapters.connect import ConnectOperations, parse_call
from adapters.connect import failure_reply as connect_failure
from adapters.lex import LexDialog, failure_reply, parse_turn
from adapters.messages import Messages
from adapters.speech import Speech, to_plain_text
from banking_domain.errors import AccountServiceError, NotAuthenticated
from banking_domain.identity import IssuedToken
from banking_domain.model import Account, AccountType, Card, CardStatus, Customer
from banking_domain.money import Money
from banking_domain.usecases import (
    BalanceNotReported,
    BalanceProblem,
    BalanceReported,
    CallerRefused,
    CallerVerified,
    CardBlocked,
    CardIssue,
    CardProblem,
    RefusalReason,
    TransferCompleted,
    TransferField,
    TransferIssue,
    TransferProblem,
    ValidTransfer,
)
from tests.fakes import ALEX, Bank, fake_bank, usd
from tests.lex_validation import answer_turn, assert_valid_lex_reply

CHECKING = Account("a-1", AccountType.CHECKING, "4821", usd("2450.13"))
SAVINGS = Account("a-2", AccountType.SAVINGS, "7730", usd("10200.00"))
CREDIT = Account(
    "a-3",
    AccountType.CREDIT,
    "0019",
    available=usd("4684.60"),
    owed=usd("315.40"),
    credit_limit=usd("5000.00"),
)
# A credit account whose limit the bank did not send.
NO_LIMIT = Account("a-4", AccountType.CREDIT, "0020", usd("1.00"), owed=usd("2.00"))
CARD = Card("c-1", "5511", "debit", CardStatus.ACTIVE)
TRANSFER = ValidTransfer(CHECKING, SAVINGS, usd("100.00"))


def every_message(says: Messages) -> list[Speech]:
    """One of each thing the bot can say, every branch taken once."""
    token = IssuedToken("t", datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    said = [
        says.help,
        says.not_understood,
        says.verify_first,
        says.escalate,
        says.cancelled,
        says.ask_balance_account,
        says.ask_card,
        says.caller_verified(CallerVerified(Customer(ALEX, "Alex"), token)),
        says.caller_refused(CallerRefused(RefusalReason.WRONG_CREDENTIALS, "0100")),
        says.balance(BalanceReported(CHECKING)),
        says.balance(BalanceReported(CREDIT)),
        says.balance(BalanceReported(NO_LIMIT)),
        says.confirm_transfer(TRANSFER),
        says.transfer_completed(TransferCompleted(TRANSFER, "T-7F3A")),
        says.confirm_card_block("5511"),
    ]
    said += [says.balance_problem(BalanceNotReported(p)) for p in BalanceProblem]
    for field in TransferField:
        for problem in TransferProblem:
            limit = usd("10000.00")
            said.append(says.transfer_issue(TransferIssue(field, problem, limit)))
    for problem in CardProblem:
        said.append(says.card_issue(CardIssue(problem, ("5511", "0019", "1200"))))
    for already in (False, True):
        for replacement in (False, True):
            block = CardBlocked(CARD, "C-55AA", already, replacement)
            said.append(says.card_blocked(block))
    return said


class TestCatalogues:
    def test_every_locale_has_the_same_keys(self) -> None:
        keys = {name: set(locales.load(name).texts) for name in locales.LOCALES}

        assert all(found == keys[locales.DEFAULT] for found in keys.values()), keys

    @pytest.mark.parametrize("locale", locales.LOCALES)
    def test_every_text_has_the_english_placeholders(self, locale: str) -> None:
        english = locales.load(locales.DEFAULT).texts
        texts = locales.load(locale).texts

        differ = {
            key
            for key, text in english.items()
            if locales.placeholders(texts[key]) != locales.placeholders(text)
        }

        assert differ == set()

    def test_every_key_is_used_by_the_code(self) -> None:
        tree = ast.parse(inspect.getsource(messages))
        literals = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        used = literals | {f"messages.{literal}" for literal in literals}

        unused = set(locales.load(locales.DEFAULT).texts) - used

        assert unused == set()

    @pytest.mark.parametrize("locale", locales.LOCALES)
    def test_every_message_can_be_said_in_every_locale(self, locale: str) -> None:
        said = every_message(messages.for_locale(locale))

        assert all(to_plain_text(speech).strip() for speech in said)

    @pytest.mark.parametrize("locale", locales.LOCALES)
    def test_every_locale_names_twelve_months(self, locale: str) -> None:
        assert len(locales.load(locale).formats.months) == 12

    def test_a_catalogue_is_read_once_whatever_the_spelling(self) -> None:
        assert locales.load("es-US") is locales.load("es_US")
        assert messages.for_locale("es-us") is messages.for_locale("es_US")

    @pytest.mark.parametrize("locale", [None, "", "fr_FR", "es", "en-GB", "xx"])
    def test_an_unknown_locale_speaks_english(self, locale: str | None) -> None:
        says = messages.for_locale(locale)

        assert says.locale == "en_US"
        assert to_plain_text(says.ask_amount) == "How much would you like to transfer?"

    @pytest.mark.parametrize(
        ("raw", "locale"),
        [
            ("en_US", "en_US"),
            ("es_US", "es_US"),
            ("es-US", "es_US"),
            ("en-US", "en_US"),
        ],
    )
    def test_lex_and_connect_spellings_name_the_same_locale(
        self, raw: str, locale: str
    ) -> None:
        assert locales.locale_id(raw) == locale


class TestFormats:
    @pytest.mark.parametrize("locale", locales.LOCALES)
    @pytest.mark.parametrize(
        ("amount", "currency", "written"),
        [
            ("2450.13", "USD", "$2,450.13"),
            ("10200.00", "USD", "$10,200.00"),
            ("1234567.5", "USD", "$1,234,567.50"),
            ("0", "USD", "$0.00"),
            ("-2.00", "USD", "-$2.00"),
            ("12.50", "EUR", "€12.50"),
            ("1000", "JPY", "1,000 JPY"),
            ("-1.5", "CAD", "-1.50 CAD"),
            ("1234.567", "KWD", "1,234.567 KWD"),
        ],
    )
    def test_amounts_are_written_as_a_us_listener_expects(
        self, locale: str, amount: str, currency: str, written: str
    ) -> None:
        formats = locales.load(locale).formats

        assert formats.money(Money(Decimal(amount), currency)) == written

    @pytest.mark.parametrize(
        ("locale", "written"),
        [("en_US", "March 5, 2025"), ("es_US", "5 de marzo de 2025")],
    )
    def test_dates_are_written_with_the_locales_month_names(
        self, locale: str, written: str
    ) -> None:
        formats = locales.load(locale).formats

        assert formats.date(datetime.date(2025, 3, 5)) == written

    def test_a_date_placeholder_is_written_the_locales_way(self) -> None:
        catalogue = locales.load("es_US")
        texts = {**catalogue.texts, "messages.due": "Vence el {day}."}
        changed = locales.Catalogue("es_US", texts, catalogue.formats)

        said = changed.speech("messages.due", day=datetime.date(2025, 12, 1))

        assert to_plain_text(said) == "Vence el 1 de diciembre de 2025."


class TestEnglish:
    """The English texts are the ones the bot said before it had catalogues."""

    says = messages.for_locale("en_US")

    def test_a_balance(self) -> None:
        said = self.says.balance(BalanceReported(CHECKING))

        assert to_plain_text(said) == (
            "Your checking account ending in 4821 has $2,450.13 available."
        )

    def test_a_credit_balance(self) -> None:
        said = self.says.balance(BalanceReported(CREDIT))

        assert to_plain_text(said) == (
            "Your credit card account ending in 0019 has a balance owed of $315.40, "
            "and $4,684.60 of credit available."
        )

    def test_the_choice_of_cards(self) -> None:
        issue = CardIssue(CardProblem.WHICH_CARD, ("5511", "0019"))

        said = self.says.card_issue(issue)

        assert (
            to_plain_text(said) == "Which card is lost? The one ending in 5511 or 0019?"
        )

    def test_the_constants_of_old_still_speak_english(self) -> None:
        assert to_plain_text(messages.ESCALATE) == (
            "Sorry, I can't complete that right now. Let me connect you with an agent."
        )
        assert self.says.not_understood == messages.NOT_UNDERSTOOD

    def test_a_name_that_is_no_constant_is_an_attribute_error(self) -> None:
        with pytest.raises(AttributeError):
            _ = messages.NO_SUCH_THING


class TestSpanish:
    says = messages.for_locale("es_US")

    def test_a_balance(self) -> None:
        said = self.says.balance(BalanceReported(CHECKING))

        assert to_plain_text(said) == (
            "Su cuenta corriente terminada en 4821 tiene un saldo disponible "
            "de $2,450.13."
        )

    def test_a_transfer_confirmation(self) -> None:
        said = self.says.confirm_transfer(TRANSFER)

        assert to_plain_text(said) == (
            "Va a transferir $100.00 de su cuenta corriente terminada en 4821 a su "
            "cuenta de ahorros terminada en 7730. ¿Desea continuar?"
        )

    def test_a_card_block(self) -> None:
        said = self.says.card_blocked(CardBlocked(CARD, "C-55AA", False, True))

        assert to_plain_text(said) == (
            "Su tarjeta terminada en 5511 ha quedado bloqueada. Le enviaremos una "
            "tarjeta de reemplazo. Su número de caso es C-55AA."
        )

    def test_the_choice_of_cards(self) -> None:
        issue = CardIssue(CardProblem.WHICH_CARD, ("5511", "0019"))

        said = to_plain_text(self.says.card_issue(issue))

        assert said == "¿Qué tarjeta perdió? ¿La terminada en 5511 o 0019?"

    def test_the_transfer_limit(self) -> None:
        issue = TransferIssue(
            TransferField.AMOUNT, TransferProblem.OVER_LIMIT, usd("10000.00")
        )

        said = self.says.transfer_issue(issue)

        assert to_plain_text(said) == (
            "Lo máximo que puede transferir de una sola vez es $10,000.00. "
            "¿Cuánto desea transferir?"
        )


# ------------------------------------------------------------------ channels


def lex_event(
    intent: str,
    slots: dict[str, str | None],
    *,
    token: str,
    locale: str | None,
    source: str = "FulfillmentCodeHook",
    confirmation: str = "None",
    input_mode: str = "Text",
) -> dict[str, Any]:
    bot: dict[str, Any] = {"id": "BOT", "name": "bankbot", "version": "DRAFT"}
    if locale is not None:
        bot["localeId"] = locale
    wire_slots = {
        name: None if value is None else {"value": {"interpretedValue": value}}
        for name, value in slots.items()
    }
    return {
        "messageVersion": "1.0",
        "invocationSource": source,
        "inputMode": input_mode,
        "sessionId": "session-1",
        "bot": bot,
        "sessionState": {
            "intent": {
                "name": intent,
                "slots": wire_slots,
                "state": "InProgress",
                "confirmationState": confirmation,
            },
            "sessionAttributes": {"customerId": ALEX.value, "authToken": token},
        },
    }


async def lex(bank: Bank, event: dict[str, Any]) -> str:
    """What the caller hears for one Lex event, through the adapter."""
    reply = await answer_turn(LexDialog(bank.use_cases), parse_turn(event))
    (message,) = reply["messages"]
    content: str = message["content"]
    return content


TRANSFER_SLOTS = {
    "SourceAccountType": "checking",
    "TargetAccountType": "savings",
    "TransferAmount": "100.00",
}


class TestLexSpeaksTheTurnsLocale:
    @pytest.fixture
    def bank(self) -> Bank:
        return fake_bank()

    async def test_a_balance_in_spanish(self, bank: Bank) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        event = lex_event(
            "CheckBalance", {"AccountType": "checking"}, token=token, locale="es_US"
        )

        said = await lex(bank, event)

        assert said == (
            "Su cuenta corriente terminada en 4821 tiene un saldo disponible "
            "de $2,450.13."
        )

    async def test_a_transfer_confirmation_in_spanish(self, bank: Bank) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        event = lex_event(
            "TransferFunds",
            TRANSFER_SLOTS,
            token=token,
            locale="es_US",
            source="DialogCodeHook",
        )

        said = await lex(bank, event)

        assert said == (
            "Va a transferir $100.00 de su cuenta corriente terminada en 4821 a su "
            "cuenta de ahorros terminada en 7730. ¿Desea continuar?"
        )

    async def test_a_card_block_in_spanish(self, bank: Bank) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        event = lex_event(
            "ReportLostCard",
            {"CardLastFour": "5511"},
            token=token,
            locale="es_US",
            confirmation="Confirmed",
        )

        said = await lex(bank, event)

        assert said.startswith("Su tarjeta terminada en 5511 ha quedado bloqueada.")
        assert "Su número de caso es " in said

    async def test_a_card_block_spoken_in_spanish_reads_digits_singly(
        self, bank: Bank
    ) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        event = lex_event(
            "ReportLostCard",
            {"CardLastFour": "5511"},
            token=token,
            locale="es_US",
            source="DialogCodeHook",
            input_mode="Speech",
        )

        said = await lex(bank, event)

        assert said == (
            "<speak>Va a bloquear la tarjeta terminada en "
            '<say-as interpret-as="digits">5511</say-as> '
            "y pedir un reemplazo. ¿Desea continuar?</speak>"
        )

    @pytest.mark.parametrize(
        ("error", "heard"),
        [
            (NotAuthenticated("no token"), "Por su seguridad,"),
            (AccountServiceError("down"), "Lo siento, no puedo completar eso"),
        ],
    )
    def test_a_failed_turn_is_answered_in_spanish(
        self, error: Exception, heard: str
    ) -> None:
        turn = parse_turn(lex_event("CheckBalance", {}, token="x", locale="es_US"))

        reply = failure_reply(turn, error)

        assert_valid_lex_reply(reply)
        assert reply["messages"][0]["content"].startswith(heard)

    @pytest.mark.parametrize("locale", [None, "fr_FR"])
    async def test_an_unknown_locale_is_answered_in_english(
        self, bank: Bank, locale: str | None
    ) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        event = lex_event(
            "CheckBalance", {"AccountType": "savings"}, token=token, locale=locale
        )

        said = await lex(bank, event)

        assert said == "Your savings account ending in 7730 has $10,200.00 available."

    async def test_an_unknown_intent_gets_the_help_in_spanish(self, bank: Bank) -> None:
        event = lex_event("OrderPizza", {}, token="x", locale="es_US")

        said = await lex(bank, event)

        assert said.startswith("Puedo darle el saldo de una cuenta,")


def connect_event(
    parameters: dict[str, str], *, token: str, language: str | None
) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "Attributes": {"customerId": ALEX.value, "authToken": token},
        "Channel": "VOICE",
        "ContactId": "contact-1",
        "CustomerEndpoint": {"Address": "+15555550100", "Type": "TELEPHONE_NUMBER"},
    }
    if language is not None:
        contact["LanguageCode"] = language
    return {
        "Name": "ContactFlowEvent",
        "Details": {"ContactData": contact, "Parameters": parameters},
    }


async def connect(bank: Bank, event: dict[str, Any]) -> dict[str, str]:
    call = parse_call(event)
    try:
        return await ConnectOperations(bank.use_cases).respond(call)
    except Exception as error:
        return connect_failure(call, error)


class TestConnectSpeaksTheContactsLanguage:
    @pytest.fixture
    def bank(self) -> Bank:
        return fake_bank()

    async def test_a_balance_in_spanish(self, bank: Bank) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        parameters = {"operation": "CheckBalance", "accountType": "checking"}

        reply = await connect(
            bank, connect_event(parameters, token=token, language="es-US")
        )

        assert reply["status"] == "OK"
        assert reply["message"] == (
            "Su cuenta corriente terminada en 4821 tiene un saldo disponible "
            "de $2,450.13."
        )
        assert reply["balance"] == "2450.13"

    async def test_a_transfer_in_spanish(self, bank: Bank) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        parameters = {
            "operation": "TransferFunds",
            "sourceAccountType": "checking",
            "targetAccountType": "savings",
            "amount": "100.00",
        }

        reply = await connect(
            bank, connect_event(parameters, token=token, language="es-US")
        )

        assert reply["status"] == "OK"
        assert reply["message"].startswith(
            "Listo. Se realizó la transferencia de $100.00 de su cuenta corriente "
            "terminada en 4821 a su cuenta de ahorros terminada en 7730."
        )

    async def test_a_card_block_in_spanish(self, bank: Bank) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        parameters = {"operation": "ReportLostCard", "cardLastFour": "0019"}

        reply = await connect(
            bank, connect_event(parameters, token=token, language="es-US")
        )

        assert reply["status"] == "OK"
        assert reply["message"].startswith(
            "Su tarjeta terminada en 0019 ha quedado bloqueada."
        )

    async def test_an_unverified_caller_is_answered_in_spanish(
        self, bank: Bank
    ) -> None:
        parameters = {"operation": "CheckBalance", "accountType": "checking"}

        reply = await connect(
            bank, connect_event(parameters, token="forged", language="es-US")
        )

        assert reply["status"] == "UNAUTHENTICATED"
        assert reply["message"].startswith("Por su seguridad,")

    async def test_an_unknown_operation_escalates_in_spanish(self, bank: Bank) -> None:
        parameters = {"operation": "OrderPizza"}

        reply = await connect(
            bank, connect_event(parameters, token="x", language="es-US")
        )

        assert reply["status"] == "ERROR"
        assert reply["message"].startswith("Lo siento, no puedo completar eso")

    @pytest.mark.parametrize("language", [None, "fr-FR", "en-US"])
    async def test_any_other_language_is_answered_in_english(
        self, bank: Bank, language: str | None
    ) -> None:
        token = (await bank.tokens.issue(ALEX)).value
        parameters = {"operation": "CheckBalance", "accountType": "savings"}

        reply = await connect(
            bank, connect_event(parameters, token=token, language=language)
        )

        assert reply["message"] == (
            "Your savings account ending in 7730 has $10,200.00 available."
        )
