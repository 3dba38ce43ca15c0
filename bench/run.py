"""Runs the whole benchmark, prints the table, writes results.json and docs/bench.md.

`python -m bench.run [--runs N] [--turns N]`. Warm turns and memory run in
child processes of their own, so that the cold-start servers (moto, uvicorn)
and this process's imports stay out of their figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "docs" / "bench.md"
ZIP = ROOT / "build" / "bankbot-lambda.zip"
TREE = ROOT / "build" / "lambda"

COLD_BUDGET = 1.15
OVERHEAD_BUDGET = 1.5

Row = tuple[str, str, str, str]


def child(module: str, *args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", module, *args]
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def package_sizes() -> dict[str, Any]:
    if not ZIP.is_file():
        return {"present": False, "note": "run make package first"}
    with zipfile.ZipFile(ZIP) as archive:
        entries = archive.infolist()
    sizes: dict[str, Any] = {
        "present": True,
        "zipped_bytes": ZIP.stat().st_size,
        "unzipped_bytes": sum(entry.file_size for entry in entries),
        "files": len(entries),
    }
    if TREE.is_dir():
        files = [path for path in TREE.rglob("*") if path.is_file()]
        sizes["tree_bytes"] = sum(path.stat().st_size for path in files)
        sizes["tree_files"] = len(files)
    return sizes


def machine() -> dict[str, str]:
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "arch": platform.machine(),
        "cpu": model,
        "nproc": str(len(os.sched_getaffinity(0))),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ------------------------------------------------------------------ the table


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _us(value: float) -> str:
    return f"{value:.0f} µs"


def _mib(size: float) -> str:
    return f"{size / 2**20:.1f} MiB"


def cold_rows(results: dict[str, Any]) -> list[Row]:
    rows = []
    floor = results["dependency floor"]["to_reply"]["median"]
    signer = results["signer floor"]["to_reply"]["median"]
    for name, phases in results.items():
        reply = phases["to_reply"]
        process = phases["process"]
        inside = f"init {_ms(phases['init']['median'])}"
        if phases["first_event"]["median"] > 0:
            inside += f", first event {_ms(phases['first_event']['median'])}"
        ratio = f"{reply['median'] / floor:.2f}x floor"
        if "floor" not in name and name != "bare interpreter":
            ratio += f", {reply['median'] / signer:.2f}x signer floor"
        rows.append(
            (
                f"cold: {name} (n={reply['n']})",
                _ms(reply["median"]),
                f"IQR {_ms(reply['q1'])}-{_ms(reply['q3'])}, "
                f"min {_ms(reply['min'])}, max {_ms(reply['max'])}",
                f"{inside}; process {_ms(process['median'])}; {ratio}",
            )
        )
    return rows


def warm_rows(results: dict[str, Any]) -> list[Row]:
    rows = []
    for channel in ("lex", "connect"):
        for name, timing in results[channel].items():
            outcomes = ", ".join(f"{k} {v}" for k, v in timing["outcomes"].items())
            rows.append(
                (
                    f"warm: {channel.capitalize()} {name} (n={timing['n']})",
                    _us(timing["p50"]),
                    f"p99 {_us(timing['p99'])}",
                    outcomes,
                )
            )
    for name, pair in results["overhead"].items():
        plain = pair["plain"]
        rows.append(
            (
                f"overhead: plain-dict {name} (n={plain['n']})",
                _us(plain["p50"]),
                f"p99 {_us(plain['p99'])}",
                f"bankbot/plain p50 {pair['ratio_p50']:.2f}x",
            )
        )
    return rows


def memory_rows(results: dict[str, Any]) -> list[Row]:
    peak = max(results["peak_after_kib"], results["rss_after_kib"])
    growth = results["growth_kib"]
    return [
        (
            "memory: peak RSS, warm sandbox process",
            f"{peak / 1024:.1f} MiB",
            f"RSS {results['rss_before_kib'] / 1024:.1f} MiB after warm-up",
            f"VmHWM; getrusage ru_maxrss {results['ru_maxrss_kib'] / 1024:.1f} MiB",
        ),
        (
            f"memory: growth over {results['turns']:,} turns",
            f"{growth:+d} KiB",
            f"{growth * 1000 / results['turns']:+.1f} KiB per 1,000",
            "read-only turns, RSS after gc.collect()",
        ),
    ]


def package_rows(sizes: dict[str, Any]) -> list[Row]:
    if not sizes["present"]:
        return [("package", "-", "-", sizes["note"])]
    rows = [
        (
            "package: build/bankbot-lambda.zip",
            _mib(sizes["zipped_bytes"]),
            f"unzipped {_mib(sizes['unzipped_bytes'])}",
            f"{sizes['files']} files",
        )
    ]
    if "tree_bytes" in sizes:
        rows.append(
            (
                "package: build/lambda",
                _mib(sizes["tree_bytes"]),
                "-",
                f"{sizes['tree_files']} files on disk",
            )
        )
    return rows


def budget_rows(results: dict[str, Any]) -> list[Row]:
    floor = results["cold"]["dependency floor"]["to_reply"]["median"]
    rows = []
    for name in ("Lex CheckBalance fulfilment", "Connect VerifyCaller"):
        ratio = results["cold"][name]["to_reply"]["median"] / floor
        verdict = "met" if ratio <= COLD_BUDGET else "NOT met"
        rows.append(
            (f"budget: cold {name}", f"{ratio:.2f}x", f"<= {COLD_BUDGET}x", verdict)
        )
    for name, pair in results["warm"]["overhead"].items():
        ratio = pair["ratio_p50"]
        verdict = "met" if ratio <= OVERHEAD_BUDGET else "NOT met"
        rows.append(
            (f"budget: Lex overhead {name}", f"{ratio:.2f}x", "<= 1.5x", verdict)
        )
    return rows


HEADER: Row = ("measure", "median / p50", "spread / p99", "notes")


def rows_of(results: dict[str, Any]) -> list[Row]:
    return [
        *cold_rows(results["cold"]),
        *warm_rows(results["warm"]),
        *memory_rows(results["memory"]),
        *package_rows(results["package"]),
        *budget_rows(results),
    ]


def text_table(rows: list[Row]) -> str:
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(3)]
    lines = []
    for row in [HEADER, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
    return "\n".join(lines)


def markdown(results: dict[str, Any], rows: list[Row]) -> str:
    host = results["machine"]
    lines = [
        "# Benchmark",
        "",
        "Generated by `python -m bench.run` (`make bench`); do not edit by hand.",
        "",
        f"Machine: {host['arch']}, {host['cpu']}, {host['nproc']} CPUs, "
        f"Python {host['python']}, {host['date']}; "
        f"the run took {results['seconds']:.0f} s.",
        "",
        "Cold start: a fresh `python` serving its first event in live mode, "
        "against the sandbox served on loopback HTTP and moto's SSM; the time "
        "is from spawning the process to the reply, our modules compiled to "
        "bytecode beforehand as the dependencies are. The floor the budget is "
        "set against imports the runtime dependencies (attrs, botocore, "
        "cattrs, httpx, tenacity) and builds an SSM client "
        "(`create_client('ssm')`) and an `httpx.AsyncClient`; no floor makes "
        "a network call, which every first event does. The signer floor "
        "builds only what bankbot builds for SSM (botocore's SigV4 signer "
        "and credentials, no service model). Warm turns: the sandbox "
        "in-process, one handler call each with a Lambda-like context (a "
        "fresh request id). The plain-dict handler (`bench/plain.py`) makes "
        "the same checks on bare dicts (the event's fields, the reply's "
        "rules, the same scrubber over what the caller wrote) and logs the "
        "same line through `logging`, with bankbot's own time and rounding "
        "helpers; it and bankbot run in alternating blocks of 100 turns. "
        "Memory: read-only turns on the sandbox in-process.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


README = ROOT / "README.md"
_START, _END = "<!-- bench:start -->", "<!-- bench:end -->"


def quote_in_readme(results: dict[str, Any], rows: list[Row]) -> None:
    """Puts the machine and the table between the README's two bench markers."""
    text = README.read_text(encoding="utf-8")
    head, start, rest = text.partition(_START)
    _, end, tail = rest.partition(_END)
    if not (start and end):
        raise RuntimeError("README.md lacks the bench markers")
    body = "\n".join(markdown(results, rows).splitlines()[4:])
    README.write_text(f"{head}{start}\n{body}\n{end}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--runs", type=int, default=12, help="cold starts each")
    parser.add_argument("--turns", type=int, default=2000, help="warm turns each")
    parser.add_argument("--memory-turns", type=int, default=10_000)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine()}
    print("warm turns...", file=sys.stderr)
    results["warm"] = child("bench.warm", str(args.turns))
    print("memory...", file=sys.stderr)
    results["memory"] = child("bench.memory", str(args.memory_turns))
    print("cold starts...", file=sys.stderr)
    # Imported only now: moto and uvicorn would swell the children's ru_maxrss.
    from bench import cold

    results["cold"] = cold.measure(args.runs)
    results["package"] = package_sizes()
    results["seconds"] = time.perf_counter() - started

    rows = rows_of(results)
    print(text_table(rows))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    REPORT.write_text(markdown(results, rows))
    quote_in_readme(results, rows)
    print(
        f"\n{time.perf_counter() - started:.0f} s; wrote {RESULTS.name}, "
        "docs/bench.md and the README's table"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
