"""Benchmark: page latency against the sandbox with injected API latency; prints figures.

Run: .venv/bin/python tests/benchmarks/bench_pages.py [--latency 0.05] [--requests 30]
It compares the TECH ticket page (four independent reads) with fan-out on and off, and shows the
cost of intake and of a plain page. Not part of the test suite: figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import time

import requests

from ddsite.demo import Demo


def sign_in(demo: Demo, app_name: str) -> tuple[requests.Session, str, float]:
    """Open the shell, follow the iframe's intake; return the session, its handle, intake seconds."""
    browser = requests.Session()
    shell = browser.get(f"{demo.sandbox_url}/{app_name}/", timeout=10).text
    src = html.unescape(re.search(r'<iframe id="site"[^>]*src="([^"]+)"', shell).group(1))
    started = time.perf_counter()
    landed = browser.get(src, timeout=10)  # 303 → 303 → page; requests keeps no Secure cookie
    elapsed = time.perf_counter() - started
    handle = landed.url.split("ddsid=")[1]
    return browser, handle, elapsed


def measure(browser: requests.Session, url: str, count: int) -> list[float]:
    """Wall-clock seconds of `count` sequential GETs."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = browser.get(url, timeout=30)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return timings


def report(label: str, timings: list[float]) -> None:
    """Print median and 95th percentile in milliseconds."""
    ordered = sorted(timings)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(f"{label:<44} median {statistics.median(ordered) * 1000:7.1f} ms   "
          f"p95 {p95 * 1000:7.1f} ms   n={len(ordered)}")


def run(latency: float, count: int, parallel: int) -> None:
    """One demo with `parallel` concurrent calls per page."""
    demo = Demo(latency=latency, site_overrides={"MAX_PARALLEL_CALLS": parallel}).start()
    try:
        browser, handle, _ = sign_in(demo, "tech")
        url = f"{demo.site_url}/tech/tickets/1001?ddsid={handle}"
        report(f"TECH ticket page, {parallel} parallel call(s)", measure(browser, url, count))
        if parallel > 1:
            report("TECH home (no DeskDirector call)",
                   measure(browser, f"{demo.site_url}/tech/?ddsid={handle}", count))
            intakes = [sign_in(demo, "portal")[2] for _ in range(count)]
            report("intake: token → clean page (who-am-I once)", intakes)
    finally:
        demo.stop()


def main() -> None:
    """Parse options and run both configurations."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per API call")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    print(f"Sandbox latency {args.latency * 1000:.0f} ms per API call; {args.requests} requests each.")
    run(args.latency, args.requests, parallel=8)
    run(args.latency, args.requests, parallel=1)


if __name__ == "__main__":
    main()
