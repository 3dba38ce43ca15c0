"""The Lex V2 adapter, driven by event files against the fake bank.

Every event goes through `parse_turn`, then `LexDialog.respond`, and through
`failure_reply` when that raises, as the entrypoint does; every reply goes
through `assert_valid_lex_reply`. Events that need a valid caller token carry
the placeholder ``{{TOKEN}}``, replaced by a token the fake bank issues.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters import messages
from adapters.lex import LexDialog, failure_reply, parse_turn
from adapters.speech import to_plain_text, to_ssml
from banking_domain.errors import AccountServiceError, DeadlineExceeded
from banking_domain.model import AccountType, CardStatus, CustomerId
from tests.fakes import ALEX, SAM, Bank, fake_bank
from tests.lex_validation import InvalidLexReply, answer_turn, assert_valid_lex_reply

EVENTS = Path(__file__).parent.parent / "events" / "lex"
EVENT_FILES = sorted(
    path for path in EVENTS.glob("*.json") if not path.name.endswith(".response.json")
)
MINTED = "minted-key-0001"
FILE_PENDING_KEY = "0b7c2f4e9a1d4c3b8e6f5a2d1c0b9a88"


class Caller:
    """One conversation with the adapter, over a fake bank."""

    def __init__(self, bank: Bank, token: str) -> None:
        self.bank = bank
        self.token = token
        self.dialog = LexDialog(bank.use_cases, new_key=lambda: MINTED)

    def event(self, name: str) -> Any:
        text = (EVENTS / f"{name}.json").read_text(encoding="utf-8")
        return json.loads(text.replace("{{TOKEN}}", self.token))

    async def send(self, event: object) -> dict[str, Any]:
        return await answer_turn(self.dialog, parse_turn(event))

    async def say(self, name: str) -> dict[str, Any]:
        return await self.send(self.event(name))


@pytest.fixture
def bank() -> Bank:
    return fake_bank()


@pytest.fixture
async def caller(bank: Bank) -> Caller:
    token = await bank.tokens.issue(ALEX)
    return Caller(bank, token.value)


def action(reply: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = reply["sessionState"]["dialogAction"]
    return action


def intent(reply: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = reply["sessionState"]["intent"]
    return found


def attributes(reply: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = reply["sessionState"]["sessionAttributes"]
    return found


def said(reply: dict[str, Any]) -> str:
    (message,) = reply["messages"]
    content: str = message["content"]
    return content


def content_type(reply: dict[str, Any]) -> str:
    (message,) = reply["messages"]
    kind: str = message["contentType"]
    return kind


def balance_of(bank: Bank, customer: CustomerId, kind: AccountType) -> str:
    accounts = bank.gateway.customers[customer].accounts
    return next(a for a in accounts if a.account_type is kind).available.to_text()


def confirmed(event: Any, attributes: dict[str, str]) -> Any:
    """The fulfilment event Lex sends after the caller says yes."""
    event = copy.deepcopy(event)
    event["invocationSource"] = "FulfillmentCodeHook"
    event["sessionState"]["intent"]["confirmationState"] = "Confirmed"
    event["sessionState"]["sessionAttributes"] = attributes
    return event


class TestEveryEventFile:
    @pytest.mark.parametrize("path", EVENT_FILES, ids=lambda path: path.stem)
    async def test_gets_a_valid_reply(self, caller: Caller, path: Path) -> None:
        reply = await caller.say(path.stem)

        assert reply["sessionState"]["dialogAction"]["type"]

    @pytest.mark.parametrize(
        "path",
        [p for p in EVENT_FILES if "-dialog-" in p.stem],
        ids=lambda path: path.stem,
    )
    async def test_in_a_dialog_call_changes_nothing(
        self, caller: Caller, path: Path
    ) -> None:
        await caller.say(path.stem)

        assert caller.bank.gateway.writes == []
        assert caller.bank.audit.records == []

    def test_the_real_reply_lex_accepted_passes_the_validator(self) -> None:
        text = EVENTS / "connect-speech-fulfillment-fallbackintent.response.json"
        reply = json.loads(text.read_text(encoding="utf-8"))

        assert_valid_lex_reply(reply)


class TestCheckBalance:
    async def test_dialog_without_an_account_type_delegates(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("check-balance-dialog-empty-text")

        assert action(reply) == {"type": "Delegate"}
        assert "messages" not in reply

    async def test_dialog_with_a_known_account_type_delegates_without_reading(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("check-balance-dialog-savings-text")

        assert action(reply) == {"type": "Delegate"}
        assert intent(reply)["slots"]["AccountType"]["value"] == {
            "interpretedValue": "Savings"
        }
        assert caller.bank.gateway.calls == 0

    async def test_dialog_with_an_unknown_account_type_asks_again(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("check-balance-dialog-unknown-account-speech")

        assert action(reply) == {"type": "ElicitSlot", "slotToElicit": "AccountType"}
        assert intent(reply)["slots"]["AccountType"] is None
        assert content_type(reply) == "SSML"
        assert "didn't catch which account" in said(reply)

    async def test_tells_the_checking_balance_of_the_demo_data(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("check-balance-fulfillment-checking-text")

        assert action(reply) == {"type": "Close"}
        assert intent(reply)["state"] == "Fulfilled"
        assert content_type(reply) == "PlainText"
        assert said(reply) == (
            "Your checking account ending in 4821 has $2,450.13 available."
        )

    async def test_tells_what_is_owed_on_credit_and_reads_digits_singly(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("check-balance-fulfillment-credit-speech")

        assert content_type(reply) == "SSML"
        assert said(reply).startswith("<speak>")
        assert '<say-as interpret-as="digits">0019</say-as>' in said(reply)
        assert "owed of $315.40" in said(reply)
        assert "$4,684.60 of credit available" in said(reply)

    async def test_answers_a_keypad_caller_by_voice(self, caller: Caller) -> None:
        reply = await caller.say("check-balance-fulfillment-savings-dtmf")

        assert content_type(reply) == "SSML"
        assert "$10,200.00 available" in said(reply)

    async def test_echoes_every_session_attribute(self, caller: Caller) -> None:
        event = caller.event("check-balance-fulfillment-checking-text")
        sent = dict(event["sessionState"]["sessionAttributes"])

        reply = await caller.send(event)

        assert attributes(reply) == sent


class TestTransferDialog:
    async def test_delegates_while_slots_are_missing(self, caller: Caller) -> None:
        reply = await caller.say("transfer-dialog-missing-slots-text")

        assert action(reply) == {"type": "Delegate"}
        assert "pendingKey" not in attributes(reply)

    @pytest.mark.parametrize(
        ("name", "slot", "reason"),
        [
            (
                "transfer-dialog-credit-source-text",
                "SourceAccountType",
                "can't be paid from a credit card",
            ),
            (
                "transfer-dialog-same-account-speech",
                "TargetAccountType",
                "has to go to a different account",
            ),
            (
                "transfer-dialog-over-limit-text",
                "TransferAmount",
                "most you can transfer at once is $10,000.00",
            ),
            (
                "transfer-dialog-too-many-decimals-text",
                "TransferAmount",
                "at most 2 decimal places",
            ),
            (
                "transfer-dialog-insufficient-funds-speech",
                "TransferAmount",
                "more than the money available",
            ),
        ],
    )
    async def test_asks_again_for_the_slot_that_breaks_a_rule(
        self, caller: Caller, name: str, slot: str, reason: str
    ) -> None:
        reply = await caller.say(name)

        assert action(reply) == {"type": "ElicitSlot", "slotToElicit": slot}
        assert intent(reply)["name"] == "TransferFunds"
        assert intent(reply)["state"] == "InProgress"
        assert intent(reply)["slots"][slot] is None
        assert reason in said(reply)

    async def test_reads_the_transfer_back_and_mints_a_key(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("transfer-dialog-confirm-speech")

        assert action(reply) == {"type": "ConfirmIntent"}
        assert intent(reply)["confirmationState"] == "None"
        assert "move $250.50 from your savings account" in said(reply)
        assert '<say-as interpret-as="digits">7730</say-as>' in said(reply)
        assert '<say-as interpret-as="digits">4821</say-as>' in said(reply)
        assert attributes(reply)["pendingKey"] == MINTED
        assert len(attributes(reply)["pendingFor"]) == 16


class TestTransferFulfilment:
    async def test_sent_three_times_moves_the_money_once(self, caller: Caller) -> None:
        event = caller.event("transfer-fulfillment-confirmed-text")

        replies = [await caller.send(copy.deepcopy(event)) for _ in range(3)]

        assert [w.kind for w in caller.bank.gateway.writes] == ["transfer"]
        assert replies[0] == replies[1] == replies[2]
        assert balance_of(caller.bank, ALEX, AccountType.SAVINGS) == "9949.50"
        assert balance_of(caller.bank, ALEX, AccountType.CHECKING) == "2700.63"

    async def test_writes_under_the_key_minted_with_the_question(
        self, caller: Caller
    ) -> None:
        await caller.say("transfer-fulfillment-confirmed-text")

        (write,) = caller.bank.gateway.writes
        assert write.key == FILE_PENDING_KEY

    async def test_the_whole_conversation_uses_the_minted_key(
        self, caller: Caller
    ) -> None:
        question = caller.event("transfer-dialog-confirm-speech")
        asked = await caller.send(question)

        reply = await caller.send(confirmed(question, attributes(asked)))

        (write,) = caller.bank.gateway.writes
        assert write.key == MINTED
        assert intent(reply)["state"] == "Fulfilled"
        assert "Your reference is" in said(reply)

    async def test_a_key_minted_for_other_slots_is_not_reused(
        self, caller: Caller
    ) -> None:
        event = caller.event("transfer-fulfillment-confirmed-text")
        amount = event["sessionState"]["intent"]["slots"]["TransferAmount"]
        amount["value"]["interpretedValue"] = "300"

        await caller.send(event)

        (write,) = caller.bank.gateway.writes
        assert write.key != FILE_PENDING_KEY
        assert write.key.startswith("lex-")

    async def test_without_a_minted_key_a_replay_still_moves_money_once(
        self, caller: Caller
    ) -> None:
        event = caller.event("transfer-fulfillment-confirmed-speech")

        replies = [await caller.send(copy.deepcopy(event)) for _ in range(3)]

        assert len(caller.bank.gateway.writes) == 1
        assert replies[0] == replies[2]
        assert balance_of(caller.bank, ALEX, AccountType.CHECKING) == "2350.13"

    # Needs TransferFunds to return the stored result of a key before it
    # checks the balance again (tests/unit/test_transfer_funds.py has the
    # same case for the use-case).
    async def test_a_replay_of_a_large_transfer_gets_the_same_reply(
        self, caller: Caller
    ) -> None:
        event = caller.event("transfer-fulfillment-confirmed-speech")
        amount = event["sessionState"]["intent"]["slots"]["TransferAmount"]
        amount["value"]["interpretedValue"] = "2000"

        first = await caller.send(copy.deepcopy(event))
        again = await caller.send(copy.deepcopy(event))

        assert len(caller.bank.gateway.writes) == 1
        assert again == first

    async def test_success_clears_the_pending_key_and_keeps_the_rest(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("transfer-fulfillment-confirmed-text")

        assert attributes(reply) == {
            "CustomerNumber": "+15555550100",
            "customerId": "C-1001",
            "authToken": caller.token,
        }
        assert "$250.50 has moved from your savings account" in said(reply)

    async def test_a_denied_transfer_is_cancelled_and_nothing_moves(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("transfer-fulfillment-denied-text")

        assert action(reply) == {"type": "Close"}
        assert intent(reply)["state"] == "Fulfilled"
        assert said(reply) == to_plain_text(messages.CANCELLED)
        assert "pendingKey" not in attributes(reply)
        assert caller.bank.gateway.writes == []

    async def test_unconfirmed_at_fulfilment_asks_for_confirmation(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("transfer-fulfillment-unconfirmed-text")

        assert action(reply) == {"type": "ConfirmIntent"}
        assert "move $40.00 from your savings account" in said(reply)
        assert caller.bank.gateway.writes == []

    async def test_a_rejection_at_fulfilment_asks_for_the_amount_again(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("transfer-fulfillment-insufficient-funds-text")

        assert action(reply) == {
            "type": "ElicitSlot",
            "slotToElicit": "TransferAmount",
        }
        assert "more than the money available" in said(reply)
        assert intent(reply)["confirmationState"] == "None"
        assert caller.bank.gateway.writes == []

    async def test_missing_slots_at_fulfilment_ask_for_the_first(
        self, caller: Caller
    ) -> None:
        event = caller.event("transfer-fulfillment-unconfirmed-text")
        event["sessionState"]["intent"]["slots"]["SourceAccountType"] = None

        reply = await caller.send(event)

        assert action(reply) == {
            "type": "ElicitSlot",
            "slotToElicit": "SourceAccountType",
        }
        assert said(reply) == to_plain_text(messages.ASK_SOURCE)


class TestReportLostCard:
    async def test_asks_which_card_listing_the_callers_cards(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("lost-card-dialog-which-card-speech")

        assert action(reply) == {"type": "ElicitSlot", "slotToElicit": "CardLastFour"}
        assert '<say-as interpret-as="digits">5511</say-as> or' in said(reply)
        assert '<say-as interpret-as="digits">0019</say-as>?' in said(reply)

    async def test_reads_the_card_back_before_blocking(self, caller: Caller) -> None:
        reply = await caller.say("lost-card-dialog-confirm-text")

        assert action(reply) == {"type": "ConfirmIntent"}
        assert said(reply) == to_plain_text(
            messages.for_locale("en_US").confirm_card_block("5511")
        )
        assert attributes(reply)["pendingKey"] == MINTED

    async def test_an_unknown_card_is_asked_for_again(self, caller: Caller) -> None:
        reply = await caller.say("lost-card-dialog-unknown-card-dtmf")

        assert action(reply) == {"type": "ElicitSlot", "slotToElicit": "CardLastFour"}
        assert "couldn't find a card ending in those digits" in said(reply)

    async def test_sent_three_times_blocks_the_card_once(self, caller: Caller) -> None:
        event = caller.event("lost-card-fulfillment-confirmed-speech")

        replies = [await caller.send(copy.deepcopy(event)) for _ in range(3)]

        assert [w.kind for w in caller.bank.gateway.writes] == ["block"]
        assert "is now blocked" in said(replies[0])
        reference = '<say-as interpret-as="characters">L-000001</say-as>'
        assert all(reference in said(reply) for reply in replies)
        cards = caller.bank.gateway.customers[ALEX].cards
        assert cards[0].status is CardStatus.BLOCKED

    # Needs ReportLostCard to report "already blocked" from the stored receipt
    # of the key rather than from the card it reads again.
    async def test_sent_again_gets_the_same_reply(self, caller: Caller) -> None:
        event = caller.event("lost-card-fulfillment-confirmed-speech")

        first = await caller.send(copy.deepcopy(event))
        again = await caller.send(copy.deepcopy(event))

        assert again == first

    async def test_a_denied_block_changes_nothing(self, caller: Caller) -> None:
        reply = await caller.say("lost-card-fulfillment-denied-speech")

        assert said(reply) == to_ssml(messages.CANCELLED)
        assert caller.bank.gateway.writes == []

    async def test_unconfirmed_at_fulfilment_asks_for_confirmation(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("lost-card-fulfillment-unconfirmed-dtmf")

        assert action(reply) == {"type": "ConfirmIntent"}
        assert said(reply) == to_ssml(
            messages.for_locale("en_US").confirm_card_block("0019")
        )

    async def test_a_caller_with_one_card_is_asked_about_that_card(
        self, bank: Bank
    ) -> None:
        sam = Caller(bank, (await bank.tokens.issue(SAM)).value)
        event = sam.event("lost-card-dialog-which-card-speech")
        event["sessionState"]["sessionAttributes"]["customerId"] = "C-1002"

        reply = await sam.send(event)

        assert action(reply) == {"type": "ConfirmIntent"}
        assert '<say-as interpret-as="digits">9090</say-as>' in said(reply)


class TestFallbackAndUnknownIntents:
    async def test_fallback_says_what_the_bot_can_do(self, caller: Caller) -> None:
        reply = await caller.say("fallback-dialog-text")

        assert action(reply) == {"type": "ElicitIntent"}
        assert said(reply) == to_plain_text(messages.NOT_UNDERSTOOD)

    @pytest.mark.parametrize(
        "name", ["unknown-intent-dialog-text", "unknown-intent-fulfillment-speech"]
    )
    async def test_an_unknown_intent_gets_the_help_text(
        self, caller: Caller, name: str
    ) -> None:
        reply = await caller.say(name)

        assert action(reply) == {"type": "ElicitIntent"}
        assert "What would you like to do?" in said(reply)
        assert caller.bank.gateway.calls == 0

    async def test_the_real_connect_event_is_answered_by_voice(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("connect-speech-fulfillment-fallbackintent")

        assert action(reply) == {"type": "ElicitIntent"}
        assert said(reply) == to_ssml(messages.NOT_UNDERSTOOD)
        assert attributes(reply)["CustomerNumber"] == "+15555550100"
        assert attributes(reply)["InstanceArn"].endswith(
            "instance/f837ec93-b6e5-4429-acb7-f698fff0148c"
        )

    async def test_the_synthetic_keypad_event_is_answered_by_voice(
        self, caller: Caller
    ) -> None:
        reply = await caller.say("dotnet-lexv2-event")

        assert action(reply) == {"type": "ElicitIntent"}
        assert content_type(reply) == "SSML"
        assert attributes(reply) == {
            "sessionattribute1": "sessionvalue1",
            "sessionattribute2": "sessionvalue2",
        }


class TestIdentity:
    @pytest.mark.parametrize(
        "name",
        [
            "check-balance-fulfillment-no-token-text",
            "check-balance-fulfillment-forged-token-speech",
            "transfer-fulfillment-forged-token-text",
            "lost-card-dialog-no-attributes-text",
            "malformed-transfer-nulls-speech",
        ],
    )
    async def test_without_a_valid_token_nothing_is_read_or_told(
        self, caller: Caller, name: str
    ) -> None:
        reply = await caller.say(name)

        assert action(reply) == {"type": "Close"}
        assert intent(reply)["state"] == "Failed"
        assert to_plain_text(messages.VERIFY_FIRST) in said(reply)
        assert attributes(reply)["authRequired"] == "true"
        assert "escalate" not in attributes(reply)
        assert caller.bank.gateway.calls == 0

    async def test_an_expired_token_discloses_nothing(self, caller: Caller) -> None:
        caller.bank.clock.advance(timedelta(minutes=16))

        reply = await caller.say("check-balance-fulfillment-checking-text")

        assert said(reply) == to_plain_text(messages.VERIFY_FIRST)
        assert "$" not in said(reply)
        assert caller.bank.gateway.calls == 0

    async def test_another_customers_token_discloses_nothing(self, bank: Bank) -> None:
        sams_token = (await bank.tokens.issue(SAM)).value
        alex_impostor = Caller(bank, sams_token)

        reply = await alex_impostor.say("transfer-fulfillment-confirmed-text")

        assert said(reply) == to_plain_text(messages.VERIFY_FIRST)
        assert bank.gateway.calls == 0
        assert bank.gateway.writes == []


class TestDependencyFailure:
    @pytest.mark.parametrize(
        "name",
        [
            "check-balance-fulfillment-credit-speech",
            "transfer-fulfillment-confirmed-text",
            "transfer-dialog-confirm-text",
            "lost-card-fulfillment-confirmed-speech",
        ],
    )
    async def test_the_account_service_failing_hands_over_to_an_agent(
        self, caller: Caller, name: str
    ) -> None:
        caller.bank.gateway.fail_with = AccountServiceError("unreachable")

        reply = await caller.say(name)

        assert action(reply) == {"type": "Close"}
        assert intent(reply)["state"] == "Failed"
        assert attributes(reply)["escalate"] == "true"
        assert "connect you with an agent" in said(reply)

    async def test_the_deadline_passing_hands_over_to_an_agent(
        self, caller: Caller
    ) -> None:
        caller.bank.gateway.fail_with = DeadlineExceeded("out of time")

        reply = await caller.say("check-balance-fulfillment-checking-text")

        assert said(reply) == to_plain_text(messages.ESCALATE)
        assert attributes(reply)["escalate"] == "true"
        assert attributes(reply)["customerId"] == "C-1001"


class TestMalformedEvents:
    @pytest.mark.parametrize(
        "name",
        [
            "malformed-empty-object",
            "malformed-not-an-object",
            "malformed-nulls",
            "malformed-wrong-types",
            "malformed-12kb-junk-string",
            "malformed-intent-without-name-fulfillment",
        ],
    )
    async def test_an_unreadable_intent_is_asked_for_again(
        self, caller: Caller, name: str
    ) -> None:
        reply = await caller.say(name)

        assert action(reply) == {"type": "ElicitIntent"}
        assert caller.bank.gateway.calls == 0

    async def test_usable_attributes_survive_wrong_types(self, caller: Caller) -> None:
        reply = await caller.say("malformed-wrong-types")

        assert attributes(reply) == {
            "customerId": "1001",
            "retries": "3",
            "vip": "true",
            "ratio": "0.5",
            "CustomerNumber": "+15555550100",
        }

    async def test_a_list_slot_is_read_from_its_values(self, caller: Caller) -> None:
        reply = await caller.say("malformed-odd-slots")

        assert said(reply) == (
            "Your savings account ending in 7730 has $10,200.00 available."
        )
        slots = intent(reply)["slots"]
        assert slots["NoShape"]["value"] == {"interpretedValue": "resolved only"}
        assert slots["Unresolved"] is None

    async def test_unknown_fields_everywhere_are_ignored(self, caller: Caller) -> None:
        reply = await caller.say("malformed-unknown-fields")

        assert action(reply) == {"type": "Delegate"}
        assert intent(reply)["name"] == "CheckBalance"

    async def test_a_failure_on_a_garbage_turn_still_gets_a_valid_reply(self) -> None:
        turn = parse_turn({"sessionState": {"intent": {"name": ""}}})

        reply = failure_reply(turn, RuntimeError("a bug"))

        assert_valid_lex_reply(reply)
        assert intent(reply) == {
            "name": "FallbackIntent",
            "slots": {},
            "state": "Failed",
        }
        assert attributes(reply) == {"escalate": "true"}


class TestTheReplyValidator:
    """The shared check must be able to fail, or it proves nothing."""

    @staticmethod
    def close(**changes: Any) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "sessionState": {
                "dialogAction": {"type": "Close"},
                "intent": {"name": "CheckBalance", "state": "Fulfilled"},
                "sessionAttributes": {"customerId": "C-1001"},
            },
            "messages": [{"contentType": "PlainText", "content": "Done."}],
        }
        for path, value in changes.items():
            *parents, leaf = path.split("__")
            node = reply
            for parent in parents:
                node = node[parent]
            node[leaf] = value
        return reply

    def test_accepts_a_good_reply_with_nulls(self) -> None:
        reply = self.close(sessionState__activeContexts=None)

        assert_valid_lex_reply(reply)

    @pytest.mark.parametrize(
        "changes",
        [
            {"sessionState__intent__state": "ReadyForFulfillment"},
            {"sessionState__intent__state": None},
            {"sessionState__intent": None},
            {"sessionState__dialogAction": {"type": "ElicitSlot"}},
            {"sessionState__dialogAction": {"type": "ConfirmIntent"}, "messages": []},
            {"sessionState__dialogAction": {"type": "ElicitIntent"}, "messages": None},
            {"sessionState__dialogAction": {"type": "Finish"}},
            {"sessionState__sessionAttributes": {"retries": 3}},
            {"sessionState__intent__slots": {"AccountType": {"value": {}}}},
            {"sessionState__intent__confirmationState": "Maybe"},
            {"messages": [{"contentType": "PlainText", "content": ""}]},
            {"messages": [{"contentType": "PlainText", "content": "x" * 1025}]},
            {"messages": [{"contentType": "PlainText", "content": "x"}] * 11},
            {"messages": [{"contentType": "Markdown", "content": "x"}]},
            {"sessionState": None},
            {"dialogAction": {"type": "Close"}},
        ],
    )
    def test_rejects_a_reply_lex_would_refuse(self, changes: dict[str, Any]) -> None:
        reply = self.close(**changes)

        with pytest.raises(InvalidLexReply):
            assert_valid_lex_reply(reply)
