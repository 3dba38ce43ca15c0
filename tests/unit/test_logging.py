"""The JSON log format, its scrubber, its set-up, and the suite's log scanner."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.logging import (
    AUDIT_LOGGER,
    REDACTED,
    JsonFormatter,
    _field_name,
    _safe,
    _suspect,
    _timestamp,
    _unchanged_by_scrubbing,
    configure_logging,
    is_secret_key,
    log_context,
    scrub,
)
from tests.conftest import LogCollector, find_leaks, sensitive_values

TOKEN = "v1.1796300000.Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTAtXw"


def record(message: str = "hello", *args: object, **extra: object) -> logging.LogRecord:
    """A record made by hand: formatting it logs nothing the scanner would see."""
    made = logging.makeLogRecord(
        {"name": "bankbot.test", "levelno": 20, "levelname": "INFO", "msg": message}
    )
    made.args = args or None
    made.__dict__.update(extra)
    return made


def formatted(made: logging.LogRecord, **options: bool) -> dict[str, object]:
    line = JsonFormatter("bankbot", **options).format(made)
    assert "\n" not in line
    parsed = json.loads(line)
    assert isinstance(parsed, dict)
    return parsed


class TestLogScanner:
    def test_catches_a_demo_pin_written_as_a_word(self) -> None:
        lines = ['{"message":"caller said 2468"}', '{"pin":"1357"}']

        assert len(find_leaks(lines, sensitive_values())) == 2

    def test_leaves_the_pin_digits_inside_amounts_and_ids_alone(self) -> None:
        lines = [
            '{"message":"moved 2468.00","id":"0b6f3c1e-2468-4c8e-9f41-2a7d8e6b1c01"}',
            '{"message":"reference 124689"}',
        ]

        assert find_leaks(lines, sensitive_values()) == []

    def test_catches_a_caller_token(self) -> None:
        leaks = find_leaks([f'{{"authToken":"{TOKEN}"}}'], sensitive_values())

        assert leaks == ["log line 1 holds a caller token"]

    def test_catches_the_development_and_test_keys(self) -> None:
        lines = [
            "key bankbot-sandbox-api-key-DEVELOPMENT-ONLY",
            "key bankbot-sandbox-signing-key-DEVELOPMENT-ONLY",
            "key test-signing-key-not-secret",
        ]

        assert len(find_leaks(lines, sensitive_values())) == 3

    def test_catches_a_full_number_it_is_told_about(self) -> None:
        leaks = find_leaks(["account 1234567894821 opened"], ["1234567894821"])

        assert leaks == ["log line 1 holds 1 sensitive value(s)"]

    def test_never_repeats_the_secret_it_found(self) -> None:
        leaks = find_leaks(["pin 2468"], sensitive_values())

        assert leaks
        assert "2468" not in " ".join(leaks)

    def test_sees_what_the_code_logged_before_the_scrubber_ran(self) -> None:
        collector = LogCollector()
        # A logger of its own, so this deliberate leak stays out of the scan
        # that runs after this test.
        logger = logging.getLogger("bankbot.test.leak")
        logger.propagate = False
        logger.addHandler(collector)
        try:
            logger.warning("checking", extra={"authToken": TOKEN})
        finally:
            logger.removeHandler(collector)
            logger.propagate = True

        assert json.loads(collector.lines[0])["authToken"] == REDACTED
        assert find_leaks(collector.lines, sensitive_values()) == []
        assert find_leaks(collector.raw_lines, sensitive_values()) != []


class TestScrubber:
    def test_masks_long_digit_runs_keeping_the_last_four(self) -> None:
        assert scrub("account 1234567894821") == "account ****4821"

    def test_masks_phone_numbers(self) -> None:
        assert scrub("caller +15555550100") == "caller +****0100"

    def test_masks_a_run_of_exactly_five_digits(self) -> None:
        assert scrub("ref 12345") == "ref ****2345"

    def test_masks_a_run_of_other_scripts_digits(self) -> None:
        assert scrub("\u0661\u0662\u0663\u0664\u0665") == "****\u0662\u0663\u0664\u0665"

    def test_leaves_four_digits_alone(self) -> None:
        assert scrub("card ending 5511") == "card ending 5511"

    def test_keeps_amounts_of_money_readable(self) -> None:
        assert scrub("moved 10200.00 USD") == "moved 10200.00 USD"

    def test_keeps_request_and_contact_ids_whole(self) -> None:
        uuid = "12345678-1234-4234-8234-123456789012"

        assert scrub(f"contact {uuid}") == f"contact {uuid}"

    def test_keeps_times_of_day_readable(self) -> None:
        text = "at 2026-12-03T13:28:49.638065+00:00"

        assert scrub(text) == text

    def test_hides_anything_shaped_like_a_caller_token(self) -> None:
        assert TOKEN not in scrub(f"token was {TOKEN} ok")

    def test_redacts_secrets_assigned_in_free_text(self) -> None:
        text = scrub("pin=2468 {'authToken': 'abc', 'x-api-key': 'k-1'}")

        assert "2468" not in text
        assert "abc" not in text
        assert "k-1" not in text

    @pytest.mark.parametrize(
        "key",
        [
            *("pin", "PIN", "pinCode", "authToken", "token", "apiKey", "x-api-key"),
            *("API_KEY", "secret", "client_secret", "password", "signing_key"),
        ],
    )
    def test_knows_secret_key_names(self, key: str) -> None:
        assert is_secret_key(key)

    @pytest.mark.parametrize(
        "key", ["typing", "mapping", "conversation_id", "outcome", "keyboard"]
    )
    def test_does_not_mistake_ordinary_key_names(self, key: str) -> None:
        assert not is_secret_key(key)


class TestJsonFormatter:
    def test_writes_the_fixed_fields(self) -> None:
        line = formatted(record("turn %s", "handled"))

        assert line["level"] == "INFO"
        assert line["message"] == "turn handled"
        assert line["service"] == "bankbot"
        assert str(line["timestamp"]).endswith("Z")

    def test_adds_the_turn_fields_bound_by_the_context(self) -> None:
        with log_context(request_id="r-1", conversation_id="c-1", operation="X"):
            line = formatted(record())

        assert line["request_id"] == "r-1"
        assert line["conversation_id"] == "c-1"
        assert line["operation"] == "X"

    def test_nested_contexts_add_up_and_unwind(self) -> None:
        with log_context(request_id="r-1", intent=None):
            with log_context(outcome="OK"):
                inner = formatted(record())
            outer = formatted(record())

        assert inner["request_id"] == "r-1"
        assert inner["outcome"] == "OK"
        assert "intent" not in inner
        assert "outcome" not in outer
        assert "request_id" not in formatted(record())

    def test_takes_the_request_id_lambda_puts_on_records(self) -> None:
        line = formatted(record(aws_request_id="req-7"))

        assert line["request_id"] == "req-7"

    def test_keeps_safe_extra_fields_and_duration_as_a_number(self) -> None:
        line = formatted(record(outcome="OK", duration_ms=12345.6, tries=2))

        assert line["outcome"] == "OK"
        assert line["duration_ms"] == 12345.6
        assert line["tries"] == 2

    def test_masks_numbers_and_drops_secrets_in_extra_fields(self) -> None:
        line = formatted(
            record(account=1234567894821, pin="2468", nested={"apiKey": "k"})
        )

        assert line["account"] == "****4821"
        assert line["pin"] == REDACTED
        assert line["nested"] == {"apiKey": REDACTED}

    def test_names_other_objects_by_type_only(self) -> None:
        class Holder:
            def __repr__(self) -> str:
                return "secret inside"

        line = formatted(record(thing=Holder()))

        assert line["thing"] == "<Holder>"

    def test_writes_the_exception_as_text(self) -> None:
        try:
            raise RuntimeError("card 4111111111111111 failed")
        except RuntimeError:
            made = record(exc_info=sys.exc_info())

        line = formatted(made)

        assert "RuntimeError" in str(line["exception"])
        assert "****1111" in str(line["exception"])
        assert "4111111111111111" not in json.dumps(line)

    def test_unscrubbed_mode_shows_what_was_logged(self) -> None:
        line = formatted(record(pin="2468"), scrubbing=False)

        assert line["pin"] == "2468"


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, put back as it was after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    audit = logging.getLogger(AUDIT_LOGGER)
    audit_level = audit.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    audit.setLevel(audit_level)


class LambdaLoggerHandler(logging.Handler):
    """Stands in for the handler the AWS Lambda runtime puts on the root logger."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class TestConfigureLogging:
    def test_writes_json_lines_to_the_stream(self, root_logger: logging.Logger) -> None:
        stream = io.StringIO()
        configure_logging("INFO", stream)

        logging.getLogger("bankbot.test").info("hello", extra={"outcome": "OK"})

        line = json.loads(stream.getvalue())
        assert line["message"] == "hello"
        assert line["outcome"] == "OK"

    def test_a_second_call_replaces_our_handler(
        self, root_logger: logging.Logger
    ) -> None:
        first, second = io.StringIO(), io.StringIO()
        configure_logging("INFO", first)
        configure_logging("INFO", second, service="other")

        logging.getLogger("bankbot.test").info("once")

        assert first.getvalue() == ""
        assert len(second.getvalue().splitlines()) == 1
        assert json.loads(second.getvalue())["service"] == "other"

    def test_takes_over_the_lambda_runtime_handler(
        self, root_logger: logging.Logger
    ) -> None:
        runtime = LambdaLoggerHandler()
        root_logger.addHandler(runtime)
        configure_logging("INFO")
        configure_logging("INFO")

        logging.getLogger("bankbot.test").info("from lambda")

        assert len(runtime.lines) == 1
        assert json.loads(runtime.lines[0])["message"] == "from lambda"
        assert root_logger.handlers.count(runtime) == 1

    def test_honours_the_level(self, root_logger: logging.Logger) -> None:
        stream = io.StringIO()
        configure_logging("warning", stream)

        logging.getLogger("bankbot.test").info("quiet")
        logging.getLogger("bankbot.test").warning("loud")

        assert [json.loads(x)["message"] for x in stream.getvalue().splitlines()] == [
            "loud"
        ]

    def test_keeps_audit_records_at_any_level(
        self, root_logger: logging.Logger
    ) -> None:
        stream = io.StringIO()
        configure_logging("ERROR", stream)

        logging.getLogger(AUDIT_LOGGER).info("CardBlocked", extra={"audit": True})

        assert json.loads(stream.getvalue())["audit"] is True

    def test_falls_back_to_info_on_an_unknown_level(
        self, root_logger: logging.Logger
    ) -> None:
        stream = io.StringIO()
        configure_logging("LOUD", stream)

        assert root_logger.level == logging.INFO
        assert "unknown log level" in stream.getvalue()


# Pieces the scrubber acts on, and pieces that only look like them.
_TRICKY = [
    TOKEN,
    "v1.",
    "pin=2468",
    "authToken: abc",
    "x-api-key=k-1",
    "12345",
    "1234",
    "+15555550100",
    "10200.00",
    "12:30:45.123",
    "6f1c2a34-9b0e-4d2f-8a61-3c5e7b9d1f20",
    "9912345678-1234-1234-1234-123456789012",
    "\u0661\u0662\u0663\u0664\u0665",
    "\uff11\uff12\uff13\uff14\uff15",
    "spinning",
    "Keyboard",
    "PASSWORD",
    "C-1001",
    "turn handled",
]
_KEYS = st.sampled_from(
    [
        "message",
        "customer_id",
        "duration_ms",
        "transfer_id",
        "pin",
        "authToken",
        "apiKey",
        "signing_key",
        "passwd",
        "Authorization",
        "outcome",
        "id12345",
    ]
) | st.text(max_size=12)
_TEXT = (
    st.sampled_from(_TRICKY)
    | st.text(max_size=40)
    | st.lists(st.sampled_from(_TRICKY), min_size=1, max_size=3).map(" ".join)
)
_VALUES = (
    _TEXT
    | st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | st.lists(_TEXT, max_size=2)
)


class TestScrubberShortcuts:
    """The formatter skips the scrubber when it can tell nothing would change.

    That judgement must never be wrong in the unsafe direction: whenever it
    says a line or a text is clean, the scrubber must indeed leave it as is.
    """

    @settings(max_examples=400, deadline=None)
    @given(payload=st.dictionaries(_KEYS, _VALUES, max_size=8))
    def test_a_line_judged_clean_is_one_the_scrubber_leaves_alone(
        self, payload: dict[str, object]
    ) -> None:
        if _unchanged_by_scrubbing(payload):
            scrubbed = {_field_name(k): _safe(v, k) for k, v in payload.items()}
            assert json.dumps(scrubbed) == json.dumps(payload)

    @settings(max_examples=400, deadline=None)
    @given(text=_TEXT)
    def test_a_text_judged_unsuspicious_is_one_scrub_leaves_alone(
        self, text: str
    ) -> None:
        if not _suspect(text):
            assert scrub(text) == text

    @pytest.mark.parametrize(
        "payload",
        [
            {"pin": "1"},
            {"note": "pin=2468"},
            {"account": "1234567890"},
            {"token": TOKEN},
            {"digits": "\u0661\u0662\u0663\u0664\u0665"},
            {"nested": {"a": "b"}},
            {"amount": 1234567},
        ],
    )
    def test_lines_with_something_to_hide_are_scrubbed(
        self, payload: dict[str, object]
    ) -> None:
        assert not _unchanged_by_scrubbing(payload)

    def test_a_plain_turn_line_is_judged_clean(self) -> None:
        line = {
            "level": "INFO",
            "message": "turn handled",
            "request_id": "6f1c2a34-9b0e-4d2f-8a61-3c5e7b9d1f20",
            "customer_id": "C-1001",
            "outcome": "Delegate:InProgress",
            "escalated": False,
            "duration_ms": 0.4,
        }
        assert _unchanged_by_scrubbing(line)

    def test_a_context_with_a_secret_makes_its_lines_scrubbed(self) -> None:
        with log_context(note="pin=2468"), log_context(customer_id="C-1"):
            line = formatted(record("inside"))

        assert line["note"] == f"pin={REDACTED}"
        assert line["customer_id"] == "C-1"

    @settings(max_examples=300, deadline=None)
    @given(
        created=st.floats(min_value=0, max_value=4e9)
        | st.integers(0, 4_000_000_000).map(lambda s: s + 0.9999995)
    )
    def test_the_time_is_written_as_datetime_writes_it(self, created: float) -> None:
        expected = datetime.fromtimestamp(created, UTC).isoformat(
            timespec="milliseconds"
        )
        assert _timestamp(created) == expected.replace("+00:00", "Z")
