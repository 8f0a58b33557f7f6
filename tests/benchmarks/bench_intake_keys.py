"""Benchmark: what signature checking costs at intake; prints figures.

Run: .venv/bin/python tests/benchmarks/bench_intake_keys.py [--requests 200] [--repeats 5]
Intake (token → who-am-I against the sandbox over loopback → 303) with the signature not checked,
checked against a PEM file (DDSITE_JWT_PUBLIC_KEYS), and checked against keys fetched from the
instance (DDSITE_JWT_KEYS=auto, cache warm). Medians of repeated runs, as ratios to "not checked".
Not part of the test suite: figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_site import DATA_DIR  # the script's folder is first on the path

from ddsite import create_app
from ddsite.demo import ServerThread
from ddsite.sandbox import create_sandbox


def intake_seconds(app, url: str, tokens, count: int) -> float:
    """Median seconds of one intake over `count` fresh tokens."""
    client = app.test_client()
    timings = []
    for _ in range(count):
        token = tokens.mint("c", 101)
        started = time.perf_counter()
        response = client.get(f"/portal/?access_token={token}&host={url}")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 303, response.status_code
    return statistics.median(timings)


@contextlib.contextmanager
def sandbox_with_keys() -> Iterator[tuple[str, Any, Path, Path]]:
    """A sandbox on loopback: its URL, its token minter, a PEM file of its keys, a scratch folder."""
    sandbox = create_sandbox()
    server = ServerThread("localhost", 0, sandbox).start()
    try:
        with tempfile.TemporaryDirectory(dir=DATA_DIR) as folder:  # a session store on disk
            tokens = sandbox.extensions["sandbox"]["tokens"]
            pem = Path(folder) / "keys.pem"
            pem.write_bytes(tokens.public_pem())
            yield f"http://localhost:{server.port}", tokens, pem, Path(folder)
    finally:
        server.stop()


# Thousands of sign-ins a minute from one client: flood control's limits lifted for the run (it
# still counts every one).
UNLIMITED = {limit: "1000000/minute" for limit in (
    "INTAKE_LIMIT_PER_CLIENT", "INTAKE_LIMIT_PER_INSTANCE",
    "FAILED_SIGN_IN_LIMIT_PER_CLIENT", "FAILED_SIGN_IN_LIMIT_PER_INSTANCE")}


def main() -> None:
    """Print intake medians per key source."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with sandbox_with_keys() as (url, tokens, pem, folder):
        base = {"SECRET_KEY": "bench", "DESKDIRECTOR_HOSTS": [url],
                "SESSION_DIR": str(folder / "sessions"), **UNLIMITED}
        setups = {"not checked": {}, "PEM file": {"JWT_PUBLIC_KEYS": str(pem)},
                  "auto (cached)": {"JWT_KEYS": "auto"}}
        apps = {name: create_app({**base, **extra}) for name, extra in setups.items()}
        runs: dict[str, list[float]] = {name: [] for name in setups}
        try:
            for app in apps.values():
                intake_seconds(app, url, tokens, 5)  # warm: pools, key cache
            for _ in range(args.repeats):
                for name, app in apps.items():
                    runs[name].append(intake_seconds(app, url, tokens, args.requests))
        finally:
            for app in apps.values():
                app.extensions["ddsite"].close()
    baseline = statistics.median(runs["not checked"])
    print(f"intake, median of {args.repeats} runs × {args.requests} sign-ins (sandbox on loopback)")
    for name, values in runs.items():
        median = statistics.median(values)
        print(f"  {name:<14} {median * 1000:7.2f} ms   ×{median / baseline:.2f}")


if __name__ == "__main__":
    main()
