"""Benchmark: the sandbox's own CPU per API call (it shares the machine in every other benchmark).

Run:  .venv/bin/python tests/benchmarks/bench_sandbox.py [--dialect v4] [--calls 300]

In-process, through Flask's test client (no HTTP server), signed in as an agent: a 5-note
ticket, a ticket grown to `--notes` notes, the tickets list and a look-up list. Thread CPU
milliseconds per call, median of `--repeat` runs. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from ddsite.sandbox import create_sandbox  # noqa: E402  (after the path is set)


def main() -> None:
    """Grow one conversation, then time each kind of call."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--dialect", default="v2", choices=("v2", "v4"))
    parser.add_argument("--calls", type=int, default=300, help="calls of each kind per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are printed")
    parser.add_argument("--notes", type=int, default=1000, help="notes in the long conversation")
    args = parser.parse_args()

    app = create_sandbox(site_url="http://127.0.0.1:1", dialect=args.dialect)
    sandbox = app.extensions["sandbox"]
    headers = {"Authorization": "DdAccessToken " + sandbox["tokens"].mint("m", 201)}
    table, desk = sandbox["endpoints"], sandbox["desk"]
    browser = app.test_client()
    short = next(t for t, ticket in desk.tickets.items() if len(ticket["notes"]) == 5)
    long = next(t for t in desk.tickets if t != short)
    note_path = table["tech.add_note"].path.replace("{ticket_id}", str(long))
    field = "comment" if args.dialect == "v4" else "note"
    while len(desk.tickets[long]["notes"]) < args.notes:
        browser.post(note_path, headers=headers, json={field: "Follow-up: still looking into it."})
    ticket = table["tech.ticket"].path
    cases = {
        "ticket, 5 notes": ticket.replace("{ticket_id}", str(short)),
        f"ticket, {args.notes} notes": ticket.replace("{ticket_id}", str(long)),
        "tickets list": table["tech.tickets"].path.split("?")[0],
        "look-up (priorities)": table["tech.priorities"].path,
    }
    print(f"sandbox CPU ms per call ({args.dialect}); median of {args.repeat} x {args.calls} calls")
    for name, path in cases.items():
        for _ in range(10):
            reply = browser.get(path, headers=headers)
            if reply.status_code != 200:
                raise RuntimeError(f"{path} answered {reply.status_code}")
        runs = []
        for _ in range(args.repeat):
            started = time.thread_time()
            for _ in range(args.calls):
                browser.get(path, headers=headers)
            runs.append((time.thread_time() - started) * 1000 / args.calls)
        print(f"  {name:24}{statistics.median(runs):8.2f}   ({len(reply.data):,} bytes)")


if __name__ == "__main__":
    main()
