"""Benchmark: the Insights page against the sandbox with injected latency, and its figures' CPU cost.

Run: .venv/bin/python tests/benchmarks/bench_insights.py [--latency 0.05] [--requests 20]
The agent's Insights page reads 161 seeded tickets in two pages plus the priorities: with fan-out
the first page and the priorities go together, then the second page (two rounds); without, three.
Printed as medians and as ratios to a contact's ticket page (one call), measured interleaved in the same
run. Figures only, never asserted.
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import requests

from ddsite.demo import Demo
from ddsite.deskdirector.models import Ref, TicketSummary
from ddsite.insights.figures import compute


def sign_in(demo: Demo, app_name: str) -> tuple[requests.Session, str]:
    """Open the shell and follow the iframe's intake; the session and its handle (no cookies kept)."""
    browser = requests.Session()
    shell = browser.get(f"{demo.sandbox_url}/{app_name}/", timeout=10).text
    src = html.unescape(re.search(r'<iframe id="site"[^>]*src="([^"]+)"', shell).group(1))
    landed = browser.get(src, timeout=10)
    return browser, landed.url.split("ddsid=")[1]


def timed_get(browser: requests.Session, url: str) -> float:
    """Seconds for one GET that must answer 200."""
    started = time.perf_counter()
    response = browser.get(url, timeout=30)
    assert response.status_code == 200, response.status_code
    return time.perf_counter() - started


def report(label: str, timings: list[float]) -> None:
    """Median and 95th percentile in milliseconds."""
    ordered = sorted(timings)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(f"{label:<44} median {statistics.median(ordered) * 1000:7.1f} ms   "
          f"p95 {p95 * 1000:7.1f} ms   n={len(ordered)}")


def page_timings(latency: float, count: int, parallel: int) -> tuple[list[float], list[float]]:
    """Seconds per agent Insights page, and per contact's ticket page (one call), interleaved."""
    demo = Demo(latency=latency, site_overrides={"MAX_PARALLEL_CALLS": parallel}).start()
    try:
        agent, agent_handle = sign_in(demo, "tech")
        contact, contact_handle = sign_in(demo, "portal")  # contact 101, who raised ticket 1001
        insights, single = [], []
        for _ in range(count):
            insights.append(timed_get(agent, f"{demo.site_url}/tech/insights/?ddsid={agent_handle}"))
            single.append(timed_get(contact, f"{demo.site_url}/portal/tickets/1001?ddsid={contact_handle}"))
        return insights, single
    finally:
        demo.stop()


def figures_cpu(tickets: int, repeats: int = 7) -> float:
    """Median seconds to compute every figure from `tickets` synthetic tickets."""
    now = datetime.now(UTC)
    rows = [TicketSummary.parse({
        "id": n, "isClosed": n % 3 == 0, "status": {"id": n % 5, "name": f"S{n % 5}"},
        "priority": {"id": n % 4, "name": f"P{n % 4}"},
        "createdOn": (now - timedelta(hours=n % 3000)).isoformat(),
        "closedOn": (now - timedelta(hours=n % 3000 - 30)).isoformat() if n % 3 == 0 else None})
        for n in range(tickets)]
    order = [Ref(i, f"P{i}") for i in range(4)]
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        compute(rows, now=now, period_weeks=26, priority_order=order)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    """Run both configurations and the CPU figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per API call")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    print(f"Sandbox latency {args.latency * 1000:.0f} ms per API call; {args.requests} requests each.")
    fanned, queue = page_timings(args.latency, args.requests, parallel=8)
    serial, queue_serial = page_timings(args.latency, args.requests, parallel=1)
    report("Insights (agent, 161 tickets), fan-out", fanned)
    report("Insights, one call at a time", serial)
    report("contact's ticket page (one call), baseline", queue + queue_serial)
    for label, timings, baseline in (("fan-out", fanned, queue), ("one at a time", serial, queue_serial)):
        ratio = statistics.median(timings) / statistics.median(baseline)
        print(f"  {label:<14} Insights ÷ one-call page: {ratio:4.2f}")
    for tickets in (161, 1000, 5000):
        print(f"figures from {tickets:>5} tickets: {figures_cpu(tickets) * 1000:7.2f} ms CPU (median)")


if __name__ == "__main__":
    main()
