"""Memory of a warm process: peak RSS, and what 10,000 more turns add to it.

Run as `python -m bench.memory TURNS`; prints one JSON object. The turns are
the read-only ones (dialog turns, balances, caller checks): the sandbox bank
keeps every write in its ledger by design, which would count the bank's growth
as the handler's.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
from itertools import cycle, islice

from bench.warm import Scenarios, sandbox_service

_PAGE = os.sysconf("SC_PAGE_SIZE")
WARMUP = 500


def rss_kib() -> int:
    """The resident set now, from /proc (getrusage only knows the peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE // 1024


def peak_kib() -> int:
    """VmHWM: unlike ru_maxrss, it starts afresh at exec, not at the parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    scenarios = Scenarios(sandbox_service())
    lex, connect = scenarios.lex_sources(), scenarios.connect_sources()
    mix = [
        (scenarios.lex, lex["CheckBalance dialog"]),
        (scenarios.lex, lex["CheckBalance fulfilment"]),
        (scenarios.lex, lex["FallbackIntent dialog"]),
        (scenarios.connect, connect["VerifyCaller"]),
        (scenarios.connect, connect["CheckBalance"]),
    ]

    def run(count: int) -> None:
        for index, (entry, source) in enumerate(islice(cycle(mix), count)):
            entry.handle(source(index), None)

    run(WARMUP)
    gc.collect()
    before, peak_before = rss_kib(), peak_kib()
    run(turns)
    gc.collect()
    after, peak_after = rss_kib(), peak_kib()
    print(
        json.dumps(
            {
                "turns": turns,
                "warmup": WARMUP,
                "rss_before_kib": before,
                "rss_after_kib": after,
                "peak_before_kib": peak_before,
                "peak_after_kib": peak_after,
                "growth_kib": after - before,
                "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "gc_objects_after": len(gc.get_objects()),
            }
        )
    )


if __name__ == "__main__":
    main()
