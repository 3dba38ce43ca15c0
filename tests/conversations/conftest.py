"""Fixtures for the conversation tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conversations.runner import (
    ConversationFailed,
    Exchange,
    load_conversation,
    run_conversation,
)

HERE = Path(__file__).parent

Converse = Callable[[Path], list[Exchange]]


def conversation_files() -> list[Path]:
    """Every conversation kept beside this module, in name order."""
    return sorted(HERE.glob("*.yaml"))


@pytest.fixture
def converse() -> Converse:
    """Plays a conversation file; a failure shows the transcript, no traceback."""

    def play(path: Path) -> list[Exchange]:
        try:
            return run_conversation(load_conversation(path))
        except ConversationFailed as failed:
            report = str(failed)
        # Outside the except block, so pytest does not print the report twice.
        pytest.fail(report, pytrace=False)

    return play
