"""Benchmark: what a user sees in a real browser; prints figures, not pass/fail.

Run: .venv/bin/python tests/benchmarks/bench_ui.py [--latency 2] [--repeat 5]
- Queue density at 1280×800: median row height and tickets per 800 px of the agent queue.
- Time to first feedback under DeskDirector latency: from a click (a link, a Send) to the first
  visible sign that something is happening (the progress bar, "Sending…", or the next page),
  beside the time until the next page is there. Medians over --repeat tries.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

from playwright.sync_api import sync_playwright

from ddsite.demo import Demo

CHROMIUM = "/usr/bin/chromium"
# True once the page shows it is busy; a missing marker means a new document has arrived.
FEEDBACK = """() => window.__benchMarker !== 1 ? "page"
  : document.documentElement.classList.contains("busy") ? "busy" : null"""


def frame_of(page):
    """The ddsite iframe as a Frame."""
    return page.locator("iframe#site").element_handle().content_frame()


def timed_click(page, selector: str) -> tuple[float, float, str]:
    """Click `selector` in the frame: (seconds to first feedback, seconds to next page, kind)."""
    frame = frame_of(page)
    frame.evaluate("() => { window.__benchMarker = 1; }")
    started = time.perf_counter()
    frame.locator(selector).first.click(no_wait_after=True)
    first, kind = None, None
    while True:
        try:
            seen = frame_of(page).evaluate(FEEDBACK)
        except Exception:  # the frame is between documents
            seen = None
        now = time.perf_counter() - started
        if seen and first is None:
            first, kind = now, seen
        if seen == "page":
            frame_of(page).wait_for_load_state()
            return first, now, kind
        if now > 30:
            raise TimeoutError(selector)
        time.sleep(0.01)


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
    results: dict[str, list[tuple[float, float, str]]] = {"open a ticket (link)": [],
                                                          "send a reply": []}
    try:
        for attempt in range(repeat):
            frame_of(page).goto(frame_of(page).url.split("/portal/")[0] + "/portal/tickets")
            results["open a ticket (link)"].append(timed_click(page, "table.tickets tbody a"))
            frame_of(page).locator("textarea").first.fill(f"Benchmark reply {attempt}")
            results["send a reply"].append(timed_click(page, "form[method=post] button[type=submit]"))
    finally:
        faults.set(latency=0)
    for label, runs in results.items():
        firsts = [r[0] for r in runs]
        pages = [r[1] for r in runs]
        kinds = sorted({r[2] for r in runs})
        print(f"{label:<22} at {latency:g} s latency: first feedback median "
              f"{statistics.median(firsts) * 1000:6.0f} ms ({'/'.join(kinds)}), next page median "
              f"{statistics.median(pages) * 1000:6.0f} ms, n={len(runs)}")
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
