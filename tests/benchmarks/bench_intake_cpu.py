"""Benchmark: CPU of the intake request and of the request after it, inside ddsite; prints figures.

Run: .venv/bin/python tests/benchmarks/bench_intake_cpu.py [--requests 300] [--repeat 5] [--gap 0.02]
     [--profile]

The app runs in this process (Flask's test client) with DeskDirector's public keys in a PEM file,
as in production with DDSITE_JWT_PUBLIC_KEYS: intake checks the signature itself and calls nobody,
so what is counted is ddsite's own work. The sandbox runs in this process too (a server thread),
outside the measured calls. Rows, for a deep link to a contact's ticket:
  new browser, intake      token → 303 with a pending URL handle (no cookie yet)
  new browser, page        the 303's target: the cookie came back, so it is the ticket page, with
                           who-am-I beside it (its script drops the handle from the address)
  cookie known, intake     token → 303, the browser already holds a session cookie
  cookie known, page       the ticket page that follows
Figures are CPU milliseconds per request (`time.thread_time`): "whole" is the request's thread,
Flask's test client included; "app" is the app alone (its `wsgi_app`, and who-am-I on the pool's
thread, so a page's "app" can exceed its "whole"); then the request's wall-clock milliseconds
(median and 90th percentile: waits show there, e.g. for a thread to start; a page's includes the
sandbox's reply, made in this process). Medians of
`--repeat` runs. `--profile` adds cProfile's top functions of cookie-known intakes and their pages.
Not part of the test suite: figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from ddsite import auth, create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_intake_keys import UNLIMITED, sandbox_with_keys  # noqa: E402  (after the path is set)

CONTACT = 101
FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
         "User-Agent": "bench"}


class AppMeter:
    """CPU of the app's own part of each request (its `wsgi_app`, and who-am-I on the pool)."""

    def __init__(self, app) -> None:
        self.spent = 0.0
        self._count(app, "wsgi_app")
        self._count(auth, "_confirmed")  # the page's who-am-I, on the pool's thread

    def _count(self, owner, name: str) -> None:
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent += time.thread_time() - started

        setattr(owner, name, counted)


ROWS = ("new browser, intake", "new browser, page", "cookie known, intake", "cookie known, page")


def run(app, meter: AppMeter, url: str, tokens, ticket: int, count: int,
        gap: float = 0.0) -> dict[str, tuple[float, ...]]:
    """Per row, over `count` fresh tokens: CPU ms per request (whole, app) and its wall-clock ms
    (median, 90th percentile)."""
    whole = dict.fromkeys(ROWS, 0.0)
    inside = dict.fromkeys(ROWS, 0.0)
    wall: dict[str, list[float]] = {row: [] for row in ROWS}
    returning = app.test_client()
    _intake(returning, url, tokens, ticket, follow=True)

    def timed(row, call, status=303):
        meter.spent, started, clock = 0.0, time.thread_time(), time.perf_counter()
        reply = call()
        wall[row].append(time.perf_counter() - clock)
        whole[row] += time.thread_time() - started
        inside[row] += meter.spent
        assert reply.status_code == status, (row, reply.status_code)
        return reply

    def follow(browser, reply):
        return browser.get(reply.headers["Location"], headers=FRAME)

    for _ in range(count):
        time.sleep(gap)  # sign-ins come apart, not back to back (see --gap)
        browser = app.test_client()
        reply = timed(ROWS[0], lambda b=browser: _intake(b, url, tokens, ticket))
        timed(ROWS[1], lambda b=browser, r=reply: follow(b, r), status=200)
        time.sleep(gap)
        reply = timed(ROWS[2], lambda: _intake(returning, url, tokens, ticket))
        timed(ROWS[3], lambda r=reply: follow(returning, r), status=200)
    return {row: (whole[row] * 1000 / count, inside[row] * 1000 / count,
                  statistics.median(wall[row]) * 1000,
                  statistics.quantiles(wall[row], n=10)[-1] * 1000) for row in ROWS}


def _intake(browser, url: str, tokens, ticket: int | None, follow: bool = False):
    token = tokens.mint("c", CONTACT)
    query = urlencode({"access_token": token, "host": url})
    path = f"/portal/tickets/{ticket}" if ticket else "/portal/tickets"
    return browser.get(f"{path}?{query}", headers=FRAME, follow_redirects=follow)


def a_ticket(app, url: str, tokens) -> int:
    """One of the contact's tickets, as their list links it."""
    page = _intake(app.test_client(), url, tokens, None, follow=True).get_data(as_text=True)
    return int(re.search(r'/portal/tickets/(\d+)', page).group(1))


def profile(app, url: str, tokens, ticket: int, count: int) -> None:
    """cProfile's view of `count` cookie-known intakes and the pages after them (this thread)."""
    returning = app.test_client()
    _intake(returning, url, tokens, ticket, follow=True)
    minted = [urlencode({"access_token": tokens.mint("c", 101), "host": url}) for _ in range(count)]
    profiler = cProfile.Profile()
    profiler.enable()
    for query in minted:
        reply = returning.get(f"/portal/tickets/{ticket}?{query}", headers=FRAME)
        returning.get(reply.headers["Location"], headers=FRAME)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


def main() -> None:
    """Print CPU per intake request, new browser and cookie known."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--gap", type=float, default=0.02,
                        help="seconds between sign-ins; real ones come apart, and what a sign-in "
                             "costs can depend on it (limits' stock memory storage starts a timer "
                             "thread on a hit unless its last one, 10 ms long, still runs)")
    args = parser.parse_args()
    with sandbox_with_keys() as (url, tokens, pem, folder):
        app = create_app({"SECRET_KEY": "bench-" + "x" * 40, "DESKDIRECTOR_HOSTS": [url],
                          "JWT_PUBLIC_KEYS": str(pem), "SESSION_DIR": str(folder / "sessions"),
                          **UNLIMITED})
        meter = AppMeter(app)
        try:
            ticket = a_ticket(app, url, tokens)
            run(app, meter, url, tokens, ticket, 20)  # warm: imports, key file, templates
            runs = [run(app, meter, url, tokens, ticket, args.requests, args.gap)
                    for _ in range(args.repeat)]
            if args.profile:
                profile(app, url, tokens, ticket, args.requests)
        finally:
            app.extensions["ddsite"].close()
    print(f"CPU ms per request inside ddsite (signature checked with a PEM file); median of "
          f"{args.repeat} x {args.requests}")
    print(f"  {'':<22} {'CPU whole':>10} {'CPU app':>8} {'wall p50':>9} {'wall p90':>9}")
    for row in ROWS:
        cells = [statistics.median(r[row][column] for r in runs) for column in range(4)]
        print(f"  {row:<22} {cells[0]:10.3f} {cells[1]:8.3f} {cells[2]:9.3f} {cells[3]:9.3f}")


if __name__ == "__main__":
    main()
