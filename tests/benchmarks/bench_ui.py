"""Benchmark: what a user sees in a real browser; prints figures, not pass/fail.

Run: .venv/bin/python tests/benchmarks/bench_ui.py [--latency 2] [--repeat 5]
- Queue density at 1280×800: median row height and tickets per 800 px of the agent queue.
- Time to first feedback under DeskDirector latency: from a click (a link, a Send) to the first
  visible sign that something is happening (the progress bar, "Sending…", or else the next page),
  beside the time until the next page is there. Medians over --repeat tries.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from ddsite.demo import Demo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for tests.*
from tests.browser.conftest import watch_feedback  # noqa: E402  (one watcher for tests and this)

CHROMIUM = "/usr/bin/chromium"


def frame_of(page):
    """The ddsite iframe as a Frame."""
    return page.locator("iframe#site").element_handle().content_frame()


def timed_click(page, selector: str, arrived: str) -> tuple[float, float]:
    """Click `selector` in the frame: (ms to the first sign of feedback, ms to the next page).

    The first sign is the progress bar or "Sending…" as the old page reports them (see
    watch_feedback); without either, it is the next page itself.
    """
    feedback = watch_feedback(page)
    started = time.perf_counter()
    frame_of(page).locator(selector).first.click(no_wait_after=True)
    frame_of(page).wait_for_selector(arrived)
    next_page = (time.perf_counter() - started) * 1000
    return min([*feedback.values(), next_page]), next_page


def queue_density(browser, demo: Demo) -> None:
    """Row height and tickets per 800 px of the agent queue (All open) at 1280×800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{demo.sandbox_url}/tech/")
    frame = frame_of(page)
    frame.wait_for_selector("h1")
    frame.goto(frame.url.replace("/tech/", "/tech/queue?view=open", 1))
    frame.wait_for_selector("table.tickets tbody tr")
    heights = frame.evaluate("""() => [...document.querySelectorAll("table.tickets tbody tr")]
        .map(row => row.getBoundingClientRect().height)""")
    visible = frame.evaluate("""() => [...document.querySelectorAll("table.tickets tbody tr")]
        .filter(row => row.getBoundingClientRect().bottom <= window.innerHeight).length""")
    row = statistics.median(heights)
    print(f"queue at 1280×800: median row {row:.0f} px (min {min(heights):.0f}, "
          f"max {max(heights):.0f}), {800 / row:.1f} tickets per 800 px, "
          f"{visible} fully visible in the first screen of the frame")
    context.close()


def feedback(browser, demo: Demo, latency: float, repeat: int) -> None:
    """Time to first feedback and to the next page, for a link and for Send, under latency."""
    faults = demo.sandbox_app.extensions["sandbox"]["faults"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{demo.sandbox_url}/portal/")
    frame_of(page).wait_for_selector("h1")
    faults.set(latency=latency)
    results: dict[str, list[tuple[float, float]]] = {"open a ticket (link)": [],
                                                          "send a reply": []}
    try:
        for attempt in range(repeat):
            frame_of(page).goto(frame_of(page).url.split("/portal/")[0] + "/portal/tickets")
            results["open a ticket (link)"].append(
                timed_click(page, "table.tickets tbody a", "textarea"))
            frame_of(page).locator("textarea").first.fill(f"Benchmark reply {attempt}")
            results["send a reply"].append(
                timed_click(page, "form[method=post] button[type=submit]", "#latest"))
    finally:
        faults.set(latency=0)
    for label, runs in results.items():
        print(f"{label:<22} at {latency:g} s latency: first feedback median "
              f"{statistics.median(r[0] for r in runs):6.0f} ms, next page median "
              f"{statistics.median(r[1] for r in runs):6.0f} ms, n={len(runs)}")
    context.close()


def main() -> None:
    """Start the demo and a browser, print both figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # keep the figures readable
    demo = Demo().start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            queue_density(browser, demo)
            feedback(browser, demo, args.latency, args.repeat)
            browser.close()
    finally:
        demo.stop()


if __name__ == "__main__":
    main()
