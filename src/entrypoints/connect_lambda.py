"""AWS Lambda handler for Amazon Connect's "Invoke AWS Lambda function" block."""

from __future__ import annotations

import functools

from adapters.connect import ConnectOperations, failure_reply, parse_call
from adapters.logging import log_context
from entrypoints.bootstrap import Service, current_service
from entrypoints.turn import request_id, serve_turn, turn_budget


class ConnectEntrypoint:
    """Turns one Connect invocation into a flat string map with a `status`."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._operations = ConnectOperations(service.use_cases)

    def handle(self, event: object, context: object) -> dict[str, str]:
        call = parse_call(event)
        settings = self._service.settings
        # Worked out only for a turn that waits on the bank.
        budget = functools.partial(
            turn_budget,
            context,
            settings.connect_budget_seconds,
            settings.safety_margin_seconds,
        )
        with log_context(
            request_id=request_id(context),
            conversation_id=call.contact_id,
            operation=call.operation,
            customer_id=call.attributes.get("customerId"),
            malformed=list(call.problems) or None,
        ):
            return serve_turn(
                self._service.runner,
                budget,
                lambda: self._operations.respond(call),
                lambda error: failure_reply(call, error),
                lambda reply: reply.get("status", "?"),
                escalates=lambda reply: reply.get("escalate") == "true",
            )


_entrypoint: ConnectEntrypoint | None = None


def handler(event: object, context: object) -> dict[str, str]:
    """The Lambda handler: `entrypoints.connect_lambda.handler`."""
    global _entrypoint  # noqa: PLW0603 - one per execution environment
    if _entrypoint is None:
        _entrypoint = ConnectEntrypoint(current_service())
    return _entrypoint.handle(event, context)
