"""Amazon Lex V2 code hooks: the event read tolerantly, the reply built safely.

`parse_turn` reads any event into a `LexTurn` without raising, `LexDialog`
answers it through the use-cases, and `failure_reply` answers a turn whose
handling raised.
"""

from __future__ import annotations

from adapters.lex.dialog import IntentHandler, LexDialog, failure_reply
from adapters.lex.events import LexTurn, parse_turn

__all__ = ["IntentHandler", "LexDialog", "LexTurn", "failure_reply", "parse_turn"]
