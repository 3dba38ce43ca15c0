"""`bankbot chat`: talk to the bot in a terminal, on the sandbox bank.

The caller is first verified through the Connect handler, as the contact flow
does before it hands the call to Lex; then each line typed is one turn, played
through `LexSimulator` and the real Lex handler. Replies are printed as a caller
would hear them. Standard input may be a pipe: the chat then prints no prompts
and ends at end of input.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any, Final, TextIO

from attrs import frozen

from entrypoints.bootstrap import Service
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import DEMO_PHONE, DEMO_PIN, connect_event
from entrypoints.lex_lambda import LexEntrypoint

GOODBYES: Final = frozenset(
    {"quit", "exit", "bye", "goodbye", "adios", "adiós", "salir", "chao"}
)
_SECRET_KEYS: Final = frozenset({"authToken", "pin"})


@frozen
class ChatOptions:
    phone: str = DEMO_PHONE
    pin: str = DEMO_PIN
    locale: str = "en_US"
    voice: bool = False
    debug: bool = False


def run_chat(
    service: Service,
    options: ChatOptions,
    stdin: TextIO,
    stdout: TextIO,
    stderr: TextIO | None = None,
) -> int:
    """Verifies the caller, then chats until "quit" or end of input; 1 if refused."""
    from lexbot.definition import load_bot_definition
    from lexbot.simulator import LexSimulator

    def say(line: str) -> None:
        print(line, file=stdout, flush=True)

    verified = _verify(service, options)
    say(f"Bot: {verified.get('message', '')}")
    if verified.get("status") != "OK":
        print(
            "bankbot: the caller could not be verified, so the chat cannot start.",
            file=stderr or stdout,
        )
        return 1

    simulator = LexSimulator(
        load_bot_definition(),
        LexEntrypoint(service).handle,
        locale=options.locale,
        input_mode="Speech" if options.voice else "Text",
        session_attributes={
            "customerId": verified["customerId"],
            "authToken": verified["authToken"],
        },
    )
    interactive = stdin.isatty()
    if interactive:
        say('(Type what you would say to the bot; "quit" ends the chat.)')
    for line in _lines(stdin, stdout, interactive):
        if line.casefold().strip(" .!") in GOODBYES:
            break
        result = simulator.say(line)
        if options.debug:
            for event, reply in zip(result.events, result.replies, strict=True):
                say("event: " + _json(event))
                say("reply: " + _json(reply))
        for message in result.messages:
            say(f"Bot: {message}")
    return 0


def _verify(service: Service, options: ChatOptions) -> dict[str, str]:
    parameters = {"operation": "VerifyCaller", "pin": options.pin}
    language = options.locale.replace("_", "-")
    event = connect_event(str(uuid.uuid4()), options.phone, parameters, language)
    return ConnectEntrypoint(service).handle(event, None)


def _lines(stdin: TextIO, stdout: TextIO, interactive: bool) -> Iterator[str]:
    """Non-empty lines; a prompt before each only when someone is typing."""
    while True:
        if interactive:
            print("You: ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            return
        text = line.strip()
        if text:
            yield text


def _json(value: Any) -> str:
    return json.dumps(_redacted(value), ensure_ascii=False)


def _redacted(value: Any) -> Any:
    """The event or reply with the caller's token left out of the terminal."""
    if isinstance(value, dict):
        return {
            key: "(redacted)" if key in _SECRET_KEYS else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value
