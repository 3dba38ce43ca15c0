"""The `bankbot` command: a demo call, a chat, event files, the sandbox bank."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from banking_domain.model import CustomerId
from entrypoints.settings import SANDBOX, ConfigurationError, Settings

TOKEN_PLACEHOLDER = "{{TOKEN}}"  # noqa: S105 - marks where a token goes


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except ConfigurationError as error:
        print(f"bankbot: configuration: {error}", file=sys.stderr)
        return 2
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bankbot",
        description="Banking assistant for Amazon Connect and Amazon Lex V2.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="a scripted call on the sandbox bank")
    demo.add_argument(
        "--logs", action="store_true", help="also print the JSON log lines"
    )
    demo.set_defaults(run=_demo)

    chat = commands.add_parser(
        "chat", help="talk to the bot in the terminal, on the sandbox bank"
    )
    chat.add_argument("--phone", help="the number the caller rings from (demo)")
    chat.add_argument("--pin", help="the PIN the caller keys in (demo)")
    chat.add_argument("--locale", choices=["en_US", "es_US"], default="en_US")
    chat.add_argument(
        "--voice", action="store_true", help="speak: Speech input, SSML replies"
    )
    chat.add_argument(
        "--debug", action="store_true", help="print each Lex event and reply (JSON)"
    )
    chat.add_argument(
        "--logs", action="store_true", help="also print the JSON log lines"
    )
    chat.set_defaults(run=_chat)

    invoke = commands.add_parser(
        "invoke", help="run event files through a handler and print the replies"
    )
    invoke.add_argument("channel", choices=["lex", "connect"])
    invoke.add_argument("files", nargs="+", type=Path, metavar="FILE")
    invoke.add_argument(
        "--live",
        action="store_true",
        help="use the live settings from the environment instead of the sandbox",
    )
    invoke.set_defaults(run=_invoke)

    sandbox = commands.add_parser("sandbox", help="the embedded sandbox bank")
    sandbox_commands = sandbox.add_subparsers(required=True, metavar="ACTION")
    serve = sandbox_commands.add_parser("serve", help="serve it over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(run=_serve)

    template = commands.add_parser(
        "template", help="write the bot definition into the SAM template's bot part"
    )
    template.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when the template's bot part is stale",
    )
    template.add_argument(
        "--template",
        type=Path,
        default=Path("template.yaml"),
        dest="template_path",
        metavar="FILE",
        help="the SAM template (default: template.yaml)",
    )
    template.set_defaults(run=_template)
    return parser


# Each command imports what it needs when it runs: `bankbot template` must not
# pay for the service, nor `bankbot chat` for the template tools.


def _demo(args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import build_service
    from entrypoints.demo import run_demo

    logs = sys.stderr if args.logs else io.StringIO()
    service = build_service(Settings(mode=SANDBOX), log_stream=logs)
    try:
        run_demo(service)
    finally:
        service.close()
    return 0


def _chat(args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import build_service
    from entrypoints.chat import ChatOptions, run_chat

    options = ChatOptions(locale=args.locale, voice=args.voice, debug=args.debug)
    if args.phone is not None:
        options = attrs.evolve(options, phone=args.phone)
    if args.pin is not None:
        options = attrs.evolve(options, pin=args.pin)
    logs = sys.stderr if args.logs else io.StringIO()
    service = build_service(Settings(mode=SANDBOX), log_stream=logs)
    try:
        return run_chat(service, options, sys.stdin, sys.stdout, sys.stderr)
    finally:
        service.close()


def _invoke(args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import build_service
    from entrypoints.connect_lambda import ConnectEntrypoint
    from entrypoints.lex_lambda import LexEntrypoint

    if not args.live:
        os.environ["BANKBOT_MODE"] = SANDBOX
    service = build_service(Settings.from_env())
    entrypoint = (
        LexEntrypoint(service) if args.channel == "lex" else ConnectEntrypoint(service)
    )
    try:
        for path in args.files:
            event = json.loads(path.read_text(encoding="utf-8"))
            if service.settings.sandbox:
                event = _with_tokens(event, service)
            reply = entrypoint.handle(event, None)
            print(json.dumps({"file": str(path), "reply": reply}, indent=2))
    finally:
        service.close()
    return 0


def _with_tokens(event: Any, service: Any) -> Any:
    """Replaces `{{TOKEN}}` next to a `customerId` with a sandbox token for it."""
    if isinstance(event, list):
        return [_with_tokens(item, service) for item in event]
    if not isinstance(event, dict):
        return event
    updated = {key: _with_tokens(value, service) for key, value in event.items()}
    customer = updated.get("customerId")
    if updated.get("authToken") == TOKEN_PLACEHOLDER and isinstance(customer, str):
        issued = service.runner.run(
            lambda: service.tokens.issue(CustomerId(customer)), 5.0
        )
        updated["authToken"] = issued.value
    return updated


def _serve(args: argparse.Namespace) -> int:
    from adapters.sandbox import serve

    try:
        serve(host=args.host, port=args.port)
    except ValueError as error:  # a host other than loopback
        print(f"bankbot: {error}", file=sys.stderr)
        return 2
    return 0


def _template(args: argparse.Namespace) -> int:
    from lexbot.cloudformation import TemplateError, splice
    from lexbot.definition import DefinitionError, load_bot_definition

    path: Path = args.template_path
    try:
        current = path.read_text(encoding="utf-8")
        updated = splice(current, load_bot_definition())
    except (OSError, DefinitionError, TemplateError) as error:
        print(f"bankbot: {error}", file=sys.stderr)
        return 2

    if updated == current:
        print(f"{path}: the bot part is up to date")
        return 0
    if args.check:
        print(f"bankbot: {path} is stale: run `bankbot template`", file=sys.stderr)
        return 1
    path.write_text(updated, encoding="utf-8")
    print(f"{path}: bot part rewritten from the bot definition")
    return 0


if __name__ == "__main__":
    sys.exit(main())
