"""Benchmark: bounded state. Many intakes and sent forms with short lifetimes; prints how much
the store holds during the run, once every lifetime is over, and after the file store's sweep.

Run: .venv/bin/python tests/benchmarks/bench_state.py [--count 10000] [--store file|redis|both]
Each round signs a contact in (intake, then the cookie check), loads a ticket and sends a reply,
against a mocked DeskDirector, with tokens of 10 s, ended sessions kept 1 s and once-only keys
kept 2 s. A hundred sessions with one-hour tokens are made at the end: they are what is still
live, and all the store should hold once the short lifetimes are over. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import jwt
import responses

from ddsite import create_app

HOST = "https://dd.example.com"
CONTACT = {"id": "acme~c~7", "userName": "pat@acme.test", "firstName": "Pat", "lastName": "Lee",
           "company": {"id": 3, "name": "Acme Pty"}}
TICKET = {"id": 1, "summary": "Printer", "status": {"id": 1, "name": "New"}, "notes": []}
SHORT, KEPT, ONCE, LIVE = 10, 1, 2, 100
_FIELDS = re.compile(r'name="(csrf_token|form_key)" type="hidden" value="([^"]+)"')


def token(lifetime: float) -> str:
    """A JWT with just an expiry (the benchmark configures no signature keys)."""
    return jwt.encode({"sub": CONTACT["id"], "exp": int(time.time() + lifetime)},
                      "benchmark-signing-key-of-32-bytes!",
                      algorithm="HS256")


def sign_in(app, lifetime: float):
    """Intake and the cookie check, as the iframe does."""
    client = app.test_client()
    intake = client.get(f"/portal/?access_token={token(lifetime)}&host={HOST}")
    assert intake.status_code == 303, intake.status_code
    assert client.get(intake.headers["Location"]).status_code == 303
    return client


def send_reply(client) -> None:
    """Load the ticket and send a reply once."""
    page = client.get("/portal/tickets/1").get_data(as_text=True)
    sent = client.post("/portal/tickets/1", data={**dict(_FIELDS.findall(page)), "note": "hi"})
    assert sent.status_code == 303, sent.status_code


def file_entries(folder: str) -> int:
    """Files in the session folder and its once/ folder."""
    return sum(len(names) for _, _, names in os.walk(folder))


def redis_entries(app) -> tuple[int, int]:
    """(DBSIZE, keys a SCAN still returns): Redis drops expired keys lazily and in cycles."""
    client = app.extensions["ddsite"].store._write_client
    return client.dbsize(), sum(1 for _ in client.scan_iter(count=1000))


def run(store: str, count: int, redis_url: str | None) -> None:
    """One store: the rounds, then the figures."""
    folder = tempfile.mkdtemp(prefix="ddsite-bench-state-")
    config = {"SECRET_KEY": "bench", "DESKDIRECTOR_HOSTS": [HOST], "SESSION_DIR": folder,
              "ENDED_SESSION_KEPT": KEPT, "ONCE_LIFETIME": ONCE, "SWEEP_INTERVAL": 3600,
              # one client signing in thousands of times is this benchmark, not a flood
              "INTAKE_LIMIT_PER_CLIENT": "1000000/minute",
              "INTAKE_LIMIT_PER_INSTANCE": "1000000/minute"}
    if store == "redis":
        config["REDIS_URL"] = redis_url
    app = create_app(config)
    count_entries = (lambda: file_entries(folder)) if store == "file" else (
        lambda: redis_entries(app)[0])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as dd:
        dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
        dd.add(responses.GET, HOST + "/api/v4/portal/tickets/1", json=TICKET)
        dd.add(responses.POST, HOST + "/api/v4/portal/tickets/1/notes", json={"id": 9})
        started = time.perf_counter()
        peak = 0
        for round_number in range(count):
            send_reply(sign_in(app, SHORT))
            if round_number % 1000 == 999:
                peak = max(peak, count_entries())
        elapsed = time.perf_counter() - started
        for _ in range(LIVE):
            sign_in(app, 3600)
    at_end = count_entries()
    time.sleep(SHORT + KEPT + 1)  # every short lifetime is over now; nothing else waits for it
    print(f"{store:>5} store: {count} intakes + {count} sent forms in {elapsed:.0f} s "
          f"({elapsed / count * 1000:.1f} ms a round), plus {LIVE} live sessions")
    print(f"        entries: highest seen during the run {peak}, at its end {at_end}")
    if store == "file":
        before_sweep = file_entries(folder)
        sweep_started = time.perf_counter()
        removed = app.extensions["ddsite"].sweeper.sweep()
        sweep_seconds = time.perf_counter() - sweep_started
        print(f"        lifetimes over: {before_sweep} files; the sweep deleted {removed} in "
              f"{sweep_seconds * 1000:.0f} ms; left: {file_entries(folder)} (live: {LIVE})")
    else:
        dbsize, scanned = redis_entries(app)
        print(f"        lifetimes over: DBSIZE {dbsize}, keys a SCAN returns {scanned} "
              f"(live: {LIVE})")
    app.extensions["ddsite"].close()
    shutil.rmtree(folder, ignore_errors=True)


def start_redis() -> tuple[subprocess.Popen, str, str]:
    """A redis-server of the benchmark's own on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="ddsite-bench-redis-")
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", folder],
                               stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0", folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--store", choices=("file", "redis", "both"), default="both")
    args = parser.parse_args()
    if args.store in ("file", "both"):
        run("file", args.count, None)
    if args.store in ("redis", "both"):
        process, url, folder = start_redis()
        try:
            run("redis", args.count, url)
        finally:
            process.terminate()
            process.wait(timeout=10)
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
