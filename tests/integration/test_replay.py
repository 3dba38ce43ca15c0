"""Exactly once under replay: a write delivered again moves nothing twice.

Lex may deliver a fulfilment event again, several Lambda execution
environments may get it at the same moment, and Connect retries a failed
invocation up to three times. Each time the bank must see one write and every
delivery must hear the same answer. Live mode throughout: secrets from SSM on
moto, the sandbox bank served by uvicorn on loopback.

What counts as the same write (the rule these tests pin):

- Lex: the idempotency key is minted when the bot asks the caller to confirm
  (ConfirmIntent) and travels in the session as ``pendingKey``; every delivery
  of the fulfilment of that yes carries it. A new question mints a new key, so
  a second transfer in the same session, even of the same amount, is a second
  write.
- Connect: the key is derived from the contact, the operation, the customer
  and the parameters. Connect gives no id that tells a retry from a new
  request, so within one contact the same operation with the same parameters
  is a retry, however much later it comes: one write. Another amount, or
  another contact, is a new write.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

import pytest
from attrs import define, field, frozen

from adapters.sandbox import SandboxBank, create_app
from entrypoints.bootstrap import Service
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import DEMO_PHONE, DEMO_PIN, connect_event, lex_event
from entrypoints.lex_lambda import LexEntrypoint
from tests.lex_validation import assert_valid_lex_reply
from tests.live import live_service, new_contact_id
from tests.servers import Moto, ServedApp

ALEX = "C-1001"
LEX_DELIVERIES = 10
# Connect's first invocation and its three retries.
CONNECT_DELIVERIES = 4
# Bounds every wait on another thread; a healthy run needs a fraction of it.
WAIT_SECONDS = 30.0

Handle = Callable[[object, object], Mapping[str, Any]]


@frozen
class Change:
    """A Lex intent that writes, the slots that ask for it, its ledger kind."""

    intent: str
    slots: Mapping[str, str]
    kind: str


TRANSFER = Change(
    "TransferFunds",
    {
        "SourceAccountType": "savings",
        "TargetAccountType": "checking",
        "TransferAmount": "25",
    },
    "transfer",
)
LOST_CARD = Change("ReportLostCard", {"CardLastFour": "5511"}, "block")
CHANGES = [pytest.param(TRANSFER, id="transfer"), pytest.param(LOST_CARD, id="card")]
TRANSFER_PARAMETERS = {
    "operation": "TransferFunds",
    "sourceAccountType": "savings",
    "targetAccountType": "checking",
    "amount": "25.00",
}


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def bank(served_sandbox: ServedApp) -> SandboxBank:
    books = SandboxBank()
    served_sandbox.switchboard.app = create_app(books)
    return books


@pytest.fixture
def service(
    moto: Moto,
    served_sandbox: ServedApp,
    bank: SandboxBank,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Service]:
    with live_service(moto, served_sandbox.base_url, monkeypatch) as built:
        yield built


@pytest.fixture
def environments(
    moto: Moto,
    served_sandbox: ServedApp,
    bank: SandboxBank,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[Service]]:
    """One live service per Lambda execution environment, all on one bank."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                live_service(moto, served_sandbox.base_url, monkeypatch)
            )
            for _ in range(LEX_DELIVERIES)
        ]


# ------------------------------------------------------------------- helpers


def verified_caller(service: Service) -> dict[str, str]:
    """Alex's identity as the Connect flow puts it in the session."""
    event = connect_event(
        new_contact_id(), DEMO_PHONE, {"operation": "VerifyCaller", "pin": DEMO_PIN}
    )
    reply = ConnectEntrypoint(service).handle(event, None)
    assert reply["status"] == "OK"
    return {"customerId": reply["customerId"], "authToken": reply["authToken"]}


@define
class LexSession:
    """One caller's Lex session, as far as these tests play Lex's part."""

    lex: LexEntrypoint
    attributes: dict[str, str]
    session_id: str = field(factory=lambda: str(uuid.uuid4()))

    def yes_to(self, change: Change) -> dict[str, Any]:
        """Asks for `change`, hears the question; the fulfilment event of a yes."""
        asked = self.send(self.event(change, "DialogCodeHook", "None"))
        assert action_of(asked) == "ConfirmIntent"
        return self.event(change, "FulfillmentCodeHook", "Confirmed")

    def send(self, event: dict[str, Any]) -> dict[str, Any]:
        reply = self.lex.handle(event, None)
        assert_valid_lex_reply(reply)
        self.attributes = dict(reply["sessionState"].get("sessionAttributes", {}))
        return reply

    def event(self, change: Change, source: str, confirmation: str) -> dict[str, Any]:
        return lex_event(
            self.session_id,
            change.intent,
            change.slots,
            source,
            attributes=self.attributes,
            transcript="yes" if confirmation == "Confirmed" else "...",
            confirmation=confirmation,
        )


def deliver_in_turn(handle: Handle, event: object, times: int) -> list[Any]:
    return [handle(copy.deepcopy(event), None) for _ in range(times)]


def deliver_at_once(handles: Sequence[Handle], event: object) -> list[Any]:
    """The event to every handler, each on its own thread, released together."""
    barrier = threading.Barrier(len(handles), timeout=WAIT_SECONDS)

    def deliver(handle: Handle) -> Mapping[str, Any]:
        # Each environment deserialises its own copy of the event.
        mine = copy.deepcopy(event)
        barrier.wait()
        return handle(mine, None)

    with ThreadPoolExecutor(max_workers=len(handles)) as pool:
        futures = [pool.submit(deliver, handle) for handle in handles]
        return [future.result(timeout=WAIT_SECONDS) for future in futures]


def action_of(reply: Mapping[str, Any]) -> str:
    return str(reply["sessionState"]["dialogAction"]["type"])


def said(reply: Mapping[str, Any]) -> str:
    return " ".join(message["content"] for message in reply.get("messages", []))


def writes(bank: SandboxBank, kind: str) -> list[str]:
    return [entry.reference for entry in bank.ledger if entry.kind == kind]


def available(bank: SandboxBank, account_type: str) -> Decimal:
    accounts = bank.customer(ALEX).accounts
    return next(a.available for a in accounts if a.type == account_type)


def transfer_call(caller: Mapping[str, str], contact_id: str, amount: str) -> Any:
    event = connect_event(
        contact_id, DEMO_PHONE, {**TRANSFER_PARAMETERS, "amount": amount}
    )
    event["Details"]["ContactData"]["Attributes"] = dict(caller)
    return event


# --------------------------------------------------------------------- tests


class TestLexFulfilmentDeliveredAgain:
    @pytest.mark.parametrize("change", CHANGES)
    def test_ten_deliveries_in_turn_write_once_and_hear_one_answer(
        self, service: Service, bank: SandboxBank, change: Change
    ) -> None:
        lex = LexEntrypoint(service)
        fulfilment = LexSession(lex, verified_caller(service)).yes_to(change)

        replies = deliver_in_turn(lex.handle, fulfilment, LEX_DELIVERIES)

        for reply in replies:
            assert_valid_lex_reply(reply)
        assert len(writes(bank, change.kind)) == 1
        assert all(reply == replies[0] for reply in replies)
        assert action_of(replies[0]) == "Close"
        assert replies[0]["sessionState"]["intent"]["state"] == "Fulfilled"

    @pytest.mark.parametrize("change", CHANGES)
    def test_ten_deliveries_at_once_to_ten_environments_write_once_and_agree(
        self, environments: list[Service], bank: SandboxBank, change: Change
    ) -> None:
        first = environments[0]
        fulfilment = LexSession(LexEntrypoint(first), verified_caller(first)).yes_to(
            change
        )
        handles = [LexEntrypoint(service).handle for service in environments]

        replies = deliver_at_once(handles, fulfilment)

        for reply in replies:
            assert_valid_lex_reply(reply)
        assert len(writes(bank, change.kind)) == 1
        assert all(reply == replies[0] for reply in replies)
        assert replies[0]["sessionState"]["intent"]["state"] == "Fulfilled"

    def test_the_transfer_moves_the_money_once(
        self, service: Service, bank: SandboxBank
    ) -> None:
        lex = LexEntrypoint(service)
        fulfilment = LexSession(lex, verified_caller(service)).yes_to(TRANSFER)

        replies = deliver_in_turn(lex.handle, fulfilment, LEX_DELIVERIES)

        (reference,) = writes(bank, "transfer")
        assert reference in said(replies[-1])
        assert available(bank, "savings") == Decimal("10175.00")
        assert available(bank, "checking") == Decimal("2475.13")

    def test_a_replay_of_a_transfer_that_used_the_funds_up_hears_the_first_answer(
        self, service: Service, bank: SandboxBank
    ) -> None:
        everything = Change(
            "TransferFunds",
            {
                "SourceAccountType": "checking",
                "TargetAccountType": "savings",
                "TransferAmount": "2450.13",
            },
            "transfer",
        )
        lex = LexEntrypoint(service)
        fulfilment = LexSession(lex, verified_caller(service)).yes_to(everything)

        replies = deliver_in_turn(lex.handle, fulfilment, 3)

        assert len(writes(bank, "transfer")) == 1
        assert available(bank, "checking") == Decimal("0.00")
        assert all(reply == replies[0] for reply in replies)
        assert replies[0]["sessionState"]["intent"]["state"] == "Fulfilled"


class TestConnectTransferRetried:
    def test_three_retries_write_once_and_hear_one_answer(
        self, service: Service, bank: SandboxBank
    ) -> None:
        connect = ConnectEntrypoint(service)
        call = transfer_call(verified_caller(service), new_contact_id(), "25.00")

        replies = deliver_in_turn(connect.handle, call, CONNECT_DELIVERIES)

        assert len(writes(bank, "transfer")) == 1
        assert all(reply == replies[0] for reply in replies)
        assert replies[0]["status"] == "OK"
        assert replies[0]["transferId"] == writes(bank, "transfer")[0]
        assert available(bank, "savings") == Decimal("10175.00")

    def test_three_retries_at_once_to_four_environments_write_once_and_agree(
        self, environments: list[Service], bank: SandboxBank
    ) -> None:
        chosen = environments[:CONNECT_DELIVERIES]
        call = transfer_call(verified_caller(chosen[0]), new_contact_id(), "25.00")
        handles = [ConnectEntrypoint(service).handle for service in chosen]

        replies = deliver_at_once(handles, call)

        assert len(writes(bank, "transfer")) == 1
        assert all(reply == replies[0] for reply in replies)
        assert replies[0]["status"] == "OK"


class TestWhatCountsAsANewWrite:
    def test_a_second_confirmed_transfer_in_one_lex_session_is_a_second_write(
        self, service: Service, bank: SandboxBank
    ) -> None:
        session = LexSession(LexEntrypoint(service), verified_caller(service))
        first = session.send(session.yes_to(TRANSFER))

        # The same words again, a new question, a new yes.
        second = session.send(session.yes_to(TRANSFER))

        first_id, second_id = writes(bank, "transfer")
        assert first_id != second_id
        assert first_id in said(first)
        assert second_id in said(second)
        assert available(bank, "savings") == Decimal("10150.00")

    def test_a_replay_of_the_first_after_the_second_adds_nothing(
        self, service: Service, bank: SandboxBank
    ) -> None:
        session = LexSession(LexEntrypoint(service), verified_caller(service))
        first_event = session.yes_to(TRANSFER)
        first = session.send(copy.deepcopy(first_event))
        session.send(session.yes_to(TRANSFER))

        late = session.lex.handle(first_event, None)

        assert len(writes(bank, "transfer")) == 2
        assert late == first

    def test_the_same_transfer_twice_in_one_connect_contact_is_one_write(
        self, service: Service, bank: SandboxBank
    ) -> None:
        # The rule: Connect cannot tell a retry from a second request with the
        # same parameters within a contact, so it counts as a retry.
        connect = ConnectEntrypoint(service)
        caller, contact = verified_caller(service), new_contact_id()

        first = connect.handle(transfer_call(caller, contact, "25.00"), None)
        again = connect.handle(transfer_call(caller, contact, " 25.00 "), None)

        assert len(writes(bank, "transfer")) == 1
        assert again == first

    def test_another_amount_in_the_same_connect_contact_is_a_new_write(
        self, service: Service, bank: SandboxBank
    ) -> None:
        connect = ConnectEntrypoint(service)
        caller, contact = verified_caller(service), new_contact_id()

        first = connect.handle(transfer_call(caller, contact, "25.00"), None)
        second = connect.handle(transfer_call(caller, contact, "30.00"), None)

        assert len(writes(bank, "transfer")) == 2
        assert first["transferId"] != second["transferId"]

    def test_the_same_transfer_in_another_connect_contact_is_a_new_write(
        self, service: Service, bank: SandboxBank
    ) -> None:
        connect = ConnectEntrypoint(service)
        caller = verified_caller(service)

        first = connect.handle(transfer_call(caller, new_contact_id(), "25.00"), None)
        second = connect.handle(transfer_call(caller, new_contact_id(), "25.00"), None)

        assert len(writes(bank, "transfer")) == 2
        assert first["transferId"] != second["transferId"]
