"""`bankbot chat` driven through piped standard input, on the sandbox bank."""

from __future__ import annotations

import io

import pytest

from entrypoints.cli import main


def chat(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: str,
    *args: str,
) -> tuple[int, list[str], str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    code = main(["chat", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


class TestChat:
    def test_a_balance_a_confirmed_transfer_and_a_lost_card(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        script = (
            "What's my checking balance?\n"
            "Move 250 dollars from savings to checking\n"
            "yes\n"
            "\n"
            "I lost my card\n"
            "5511\n"
            "go ahead\n"
        )

        code, out, _ = chat(monkeypatch, capsys, script)

        assert code == 0
        assert out == [
            "Bot: Thank you, Alex. You're verified.",
            "Bot: Your checking account ending in 4821 has $2,450.13 available.",
            "Bot: You'd like to move $250.00 from your savings account ending in 7730"
            " to your checking account ending in 4821. Shall I go ahead?",
            "Bot: Done. $250.00 has moved from your savings account ending in 7730"
            " to your checking account ending in 4821. Your reference is T-100001.",
            "Bot: Which card is lost? The one ending in 5511 or 0019?",
            "Bot: You'd like to block the card ending in 5511 and order a"
            " replacement. Shall I go ahead?",
            "Bot: Your card ending in 5511 is now blocked. A replacement is on its"
            " way. Your case reference is L-100002.",
        ]

    def test_quit_ends_the_chat_before_later_lines(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = chat(monkeypatch, capsys, "bye\nWhat's my checking balance?\n")

        assert code == 0
        assert out == ["Bot: Thank you, Alex. You're verified."]

    def test_spanish_by_voice_prints_plain_words(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = chat(
            monkeypatch,
            capsys,
            "Cuánto tengo en mi cuenta de ahorros\n",
            "--locale",
            "es_US",
            "--voice",
        )

        assert code == 0
        assert len(out) == 2
        assert "7730" in out[1]
        assert "$10,200.00" in out[1]
        assert "<" not in out[1]

    def test_debug_prints_events_and_replies_without_the_token(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = chat(
            monkeypatch, capsys, "What's my savings balance\n", "--debug"
        )

        events = [line for line in out if line.startswith("event: ")]
        replies = [line for line in out if line.startswith("reply: ")]
        assert code == 0
        assert len(events) == len(replies) == 2
        assert '"invocationSource": "FulfillmentCodeHook"' in events[1]
        assert all('"authToken": "(redacted)"' in line for line in events + replies)

    def test_a_wrong_pin_refuses_to_start_the_chat(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = chat(
            monkeypatch, capsys, "What's my checking balance?\n", "--pin", "1111"
        )

        assert code == 1
        assert out == [
            "Bot: Sorry, I couldn't verify you with that PIN for the number you're"
            " calling from."
        ]
        assert "could not be verified, so the chat cannot start" in err

    def test_another_caller_can_be_chosen(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = chat(
            monkeypatch,
            capsys,
            "Balance of my checking please\n",
            "--phone",
            "+15555550101",
            "--pin",
            "1357",
        )

        assert code == 0
        assert out[0] == "Bot: Thank you, Sam. You're verified."
        assert "$85.00" in out[1]
