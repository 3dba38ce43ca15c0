"""AWS Lambda handler for the Lex V2 bot's dialog and fulfillment code hooks."""

from __future__ import annotations

import functools
from typing import Any

from adapters.lex import LexDialog, failure_reply, parse_turn
from adapters.logging import log_context
from entrypoints.bootstrap import Service, current_service
from entrypoints.turn import request_id, serve_turn, turn_budget


class LexEntrypoint:
    """Turns one Lex V2 code hook event into a reply Lex accepts, always."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._dialog = LexDialog(service.use_cases)

    def handle(self, event: object, context: object) -> dict[str, Any]:
        turn = parse_turn(event)
        settings = self._service.settings
        # Worked out only for a turn that waits on the bank.
        budget = functools.partial(
            turn_budget,
            context,
            settings.lex_budget_seconds,
            settings.safety_margin_seconds,
        )
        with log_context(
            request_id=request_id(context),
            conversation_id=turn.session_id,
            intent=turn.intent_name,
            invocation_source=turn.invocation_source,
            customer_id=turn.session_attributes.get("customerId"),
            malformed=list(turn.problems) or None,
        ):
            return serve_turn(
                self._service.runner,
                budget,
                lambda: self._dialog.respond(turn),
                lambda error: failure_reply(turn, error),
                _outcome,
            )


def _outcome(reply: dict[str, Any]) -> str:
    action = reply.get("sessionState", {}).get("dialogAction", {})
    intent = reply.get("sessionState", {}).get("intent") or {}
    return f"{action.get('type', '?')}:{intent.get('state', '-')}"


_entrypoint: LexEntrypoint | None = None


def handler(event: object, context: object) -> dict[str, Any]:
    """The Lambda handler: `entrypoints.lex_lambda.handler`."""
    global _entrypoint  # noqa: PLW0603 - one per execution environment
    if _entrypoint is None:
        _entrypoint = LexEntrypoint(current_service())
    return _entrypoint.handle(event, context)
