"""Cold starts: fresh interpreters serving their first event, next to the floor.

Each child notes `time.perf_counter()` (CLOCK_MONOTONIC, shared by every
process on Linux) on its first line, after its imports and after its first
reply, and prints the three. The parent notes the same clock before it spawns
the child and after the child has exited, so one run gives:

- startup: spawn to the script's first line (interpreter and site);
- init: the entrypoint's imports;
- first event: building the service and serving the event (SSM reads, the
  account API over loopback HTTP);
- to reply: spawn to the reply, the figure a caller waits for;
- process: spawn to exit, timed from outside.

The variants run in turn, round after round, so drift hits them all alike.
"""

from __future__ import annotations

import asyncio
import compileall
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.clock import SystemClock
from adapters.sandbox import DEVELOPMENT_API_KEY, create_app
from adapters.secrets import StaticSecretStore
from banking_domain.identity import SIGNING_KEY, CallerTokens
from banking_domain.model import CustomerId
from bench.stats import spread
from bench.warm import CUSTOMER
from entrypoints.demo import DEMO_PHONE, DEMO_PIN, connect_event, lex_event
from tests.servers import DUMMY_CREDENTIALS, REGION, moto_ssm, serve_asgi

ROOT = Path(__file__).resolve().parent.parent
BENCH_SIGNING_KEY = "bench-signing-key-not-secret"

_REPORT = 'print(f"{_t0!r} {_t1!r} {_t2!r} {_outcome}")'

BARE = f"""\
import time
_t0 = _t1 = _t2 = time.perf_counter()
_outcome = "-"
{_REPORT}
"""

# The floor the budget is set against: the runtime dependencies imported, an
# SSM client built the usual way, and an HTTP client.
DEPENDENCIES = f"""\
import time
_t0 = time.perf_counter()
import os
import attrs, botocore.session, cattrs, httpx, tenacity
_t1 = time.perf_counter()
_ssm = botocore.session.get_session().create_client(
    "ssm", region_name=os.environ["AWS_REGION"]
)
_http = httpx.AsyncClient()
_t2 = time.perf_counter()
_outcome = "-"
{_REPORT}
"""

# Only what bankbot itself builds for SSM: botocore's signer and credentials
# from the environment, no service model. Shown, not budgeted against.
SIGNER = f"""\
import time
_t0 = time.perf_counter()
import attrs, cattrs, httpx, tenacity
import botocore.auth, botocore.awsrequest, botocore.credentials
_t1 = time.perf_counter()
_signer = botocore.auth.SigV4Auth(
    botocore.credentials.EnvProvider().load(), "ssm", "us-east-1"
)
_http = httpx.AsyncClient()
_t2 = time.perf_counter()
_outcome = "-"
{_REPORT}
"""


def _first_event(module: str, outcome: str) -> str:
    """A child that imports one entrypoint and serves the event file it is given."""
    return f"""\
import time
_t0 = time.perf_counter()
from entrypoints.{module} import handler
_t1 = time.perf_counter()
import json, sys
with open(sys.argv[1]) as _file:
    _event = json.load(_file)
_reply = handler(_event, None)
_t2 = time.perf_counter()
_outcome = {outcome}
{_REPORT}
"""


LEX = _first_event(
    "lex_lambda",
    '_reply["sessionState"]["dialogAction"]["type"] + ":" '
    '+ _reply["sessionState"]["intent"]["state"]',
)
CONNECT = _first_event("connect_lambda", '_reply["status"]')

# name: (script, event file or None, the outcome a good first turn gives)
VARIANTS = {
    "bare interpreter": (BARE, None, "-"),
    "dependency floor": (DEPENDENCIES, None, "-"),
    "signer floor": (SIGNER, None, "-"),
    "Lex CheckBalance fulfilment": (LEX, "lex.json", "Close:Fulfilled"),
    "Connect VerifyCaller": (CONNECT, "connect.json", "OK"),
}


def caller_token() -> str:
    """A token the live service accepts: signed with the key put into moto."""
    secrets = StaticSecretStore({SIGNING_KEY: BENCH_SIGNING_KEY})
    tokens = CallerTokens(secrets, SystemClock(), timedelta(minutes=15))
    return asyncio.run(tokens.issue(CustomerId(CUSTOMER))).value


def write_events(folder: Path) -> None:
    attributes = {"customerId": CUSTOMER, "authToken": caller_token()}
    lex = lex_event(
        "bench-cold",
        "CheckBalance",
        {"AccountType": "checking"},
        "FulfillmentCodeHook",
        attributes=attributes,
        transcript="checking",
    )
    connect = connect_event(
        "bench-cold", DEMO_PHONE, {"operation": "VerifyCaller", "pin": DEMO_PIN}
    )
    (folder / "lex.json").write_text(json.dumps(lex))
    (folder / "connect.json").write_text(json.dumps(connect))


@contextmanager
def live_environment() -> Iterator[dict[str, str]]:
    """Moto's SSM and the served sandbox on loopback; the env a child needs."""
    # moto's werkzeug server logs every request on standard error.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with moto_ssm() as moto, serve_asgi() as served:
        served.switchboard.app = create_app()
        names = moto.put(
            {"bank-api-key": DEVELOPMENT_API_KEY, "signing-key": BENCH_SIGNING_KEY}
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "BANK"))
        }
        env.update(
            AWS_ENDPOINT_URL_SSM=moto.endpoint,
            AWS_REGION=REGION,
            AWS_ACCESS_KEY_ID=DUMMY_CREDENTIALS["aws_access_key_id"],
            AWS_SECRET_ACCESS_KEY=DUMMY_CREDENTIALS["aws_secret_access_key"],
            AWS_CONFIG_FILE="/nonexistent",
            AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
            BANKBOT_MODE="live",
            BANK_API_URL=served.base_url,
            BANK_API_KEY_PARAMETER=names["bank-api-key"],
            SIGNING_KEY_PARAMETER=names["signing-key"],
        )
        yield env


def run_child(script: str, event: Path | None, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-c", script]
    if event is not None:
        command.append(str(event))
    spawned = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    exited = time.perf_counter()
    if done.returncode != 0:
        raise RuntimeError(f"cold-start child failed:\n{done.stderr[-2000:]}")
    first, imported, served, outcome = done.stdout.split()
    t0, t1, t2 = float(first), float(imported), float(served)
    return {
        "startup": t0 - spawned,
        "init": t1 - t0,
        "first_event": t2 - t1,
        "to_reply": t2 - spawned,
        "process": exited - spawned,
        "outcome": outcome,
    }


def compile_sources() -> None:
    """Our modules as bytecode, as the dependencies are and the package ships.

    pip compiled the dependencies when it installed them; without this our
    own modules would be compiled afresh by every child, which no real cold
    start does.
    """
    if not compileall.compile_dir(ROOT / "src", quiet=1):
        raise RuntimeError("compiling src failed")


def measure(runs: int) -> dict[str, Any]:
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    compile_sources()
    with tempfile.TemporaryDirectory() as folder, live_environment() as env:
        write_events(Path(folder))
        for round_ in range(runs + 1):
            for name, (script, event, _) in VARIANTS.items():
                path = Path(folder, event) if event else None
                sample = run_child(script, path, env)
                if round_:  # the first round only warms the page cache
                    samples[name].append(sample)

    results = {}
    for name, (_, _, expected) in VARIANTS.items():
        runs_of = samples[name]
        outcomes = sorted({run["outcome"] for run in runs_of})
        if outcomes != [expected]:
            raise RuntimeError(f"{name}: first turns answered {outcomes}")
        phases = ("startup", "init", "first_event", "to_reply", "process")
        results[name] = {
            phase: spread([run[phase] * 1000 for run in runs_of]) for phase in phases
        }
        results[name]["outcome"] = expected
    return results
