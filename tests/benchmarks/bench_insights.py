"""Benchmark: the Insights page against the sandbox with injected latency, and its figures' CPU cost.

Run: .venv/bin/python tests/benchmarks/bench_insights.py [--latency 0.05] [--requests 20]
The agent's Insights page reads 161 seeded tickets in two pages plus the priorities: with fan-out
the first page and the priorities go together, then the second page (two rounds); without, three.
Printed as medians and as ratios to the queue page (one list call), measured interleaved in the same
run. Figures only, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import measure, report, sign_in  # noqa: E402

from ddsite.demo import Demo  # noqa: E402
from ddsite.deskdirector.models import Ref, TicketSummary  # noqa: E402
from ddsite.insights.figures import compute  # noqa: E402


def page_timings(latency: float, count: int, parallel: int) -> tuple[list[float], list[float]]:
    """Seconds per agent Insights page, and per queue page (one list call), interleaved."""
    demo = Demo(latency=latency, site_overrides={"MAX_PARALLEL_CALLS": parallel}).start()
    try:
        browser, handle, _ = sign_in(demo, "tech")
        insights, queue = [], []
        for _ in range(count):
            insights += measure(browser, f"{demo.site_url}/tech/insights/?ddsid={handle}", 1)
            queue += measure(browser, f"{demo.site_url}/tech/queue?view=all&ddsid={handle}", 1)
        return insights, queue
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
    report("queue page (one list call), baseline", queue + queue_serial)
    for label, timings, baseline in (("fan-out", fanned, queue), ("one at a time", serial, queue_serial)):
        ratio = statistics.median(timings) / statistics.median(baseline)
        print(f"  {label:<14} Insights ÷ queue page: {ratio:4.2f}")
    for tickets in (161, 1000, 5000):
        print(f"figures from {tickets:>5} tickets: {figures_cpu(tickets) * 1000:7.2f} ms CPU (median)")


if __name__ == "__main__":
    main()
