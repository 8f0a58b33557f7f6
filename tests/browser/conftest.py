"""Real-browser fixtures: Debian's Chromium driven by Playwright, the demo on loopback, screenshots."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from ddsite.demo import Demo

CHROMIUM = os.environ.get("DDSITE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]


def _browser_missing_reason() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run; missing is a failure under CI=true, a skip elsewhere."""
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as clicks and page loads do (10 s): on a busy machine a page that
    # makes several DeskDirector calls can take longer than Playwright's default 5 s to appear.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshot_dir():
    """Where this run's screenshots go: test-artifacts/browser-<time>/ (or $DDSITE_SCREENSHOTS)."""
    folder = Path(os.environ.get("DDSITE_SCREENSHOTS")
                  or ROOT / "test-artifacts" / time.strftime("browser-%Y%m%d-%H%M%S"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shot(page, screenshot_dir, request):
    """shot("state") saves a full-page screenshot named after the test and the state."""
    test_name = re.sub(r"[^\w-]+", "_", request.node.name)

    def take(state: str) -> Path:
        path = screenshot_dir / f"{test_name}--{state}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _demo(**kwargs):
    demo = Demo(**kwargs).start()
    yield demo
    demo.stop()


@pytest.fixture(scope="module")
def demo():
    """The sandbox (localhost) framing the site (127.0.0.1), with partitioned cookies."""
    yield from _demo()


@pytest.fixture(scope="module")
def demo_v4():
    """The same with the sandbox speaking the v4 dialect (ddsite told so by its endpoints file)."""
    yield from _demo(dialect="v4")


@pytest.fixture(params=["v2", "v4"])
def each_dialect_demo(request):
    """The main flows run against the sandbox in each dialect."""
    return request.getfixturevalue("demo" if request.param == "v2" else "demo_v4")


@pytest.fixture(scope="module")
def demo_without_partitioned_cookies():
    """The same with Partitioned switched off: Chromium drops the cookie in the iframe."""
    yield from _demo(site_overrides={"SESSION_COOKIE_PARTITIONED": False})


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page, 1000 px wide."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def site_frame(page):
    """The ddsite iframe inside the shell."""
    return page.frame_locator("iframe#site")


def frame_object(page):
    """The ddsite iframe as a Playwright Frame (for its URL, waits and evaluation)."""
    return page.locator("iframe#site").element_handle().content_frame()


def frame_url(page) -> str:
    """The iframe's current address."""
    return frame_object(page).url


@pytest.fixture
def latency(demo):
    """latency(seconds) slows every DeskDirector call of the sandbox; back to none afterwards."""
    faults = demo.sandbox_app.extensions["sandbox"]["faults"]
    yield lambda seconds: faults.set(latency=seconds)
    faults.set(latency=0)


def rendered(frame):
    """The frame once its document has loaded, stylesheets included; returns the frame."""
    # An element is "visible" to Playwright as soon as it is parsed, while ddsite.css may still be
    # on its way; a page measured then is unstyled (in dark mode: light text that axe, finding no
    # background, judges against white). The load event is when the page is what a user sees.
    frame.wait_for_load_state("load")
    return frame


def serious_violations(target) -> list[str]:
    """axe-core's serious and critical findings in a page or frame (the site's frame by default),
    once its stylesheets are in."""
    from axe_playwright_python.sync_playwright import Axe

    frame = rendered(target if hasattr(target, "parent_frame") else frame_object(target))
    results = Axe().run(frame)
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]} "
            f"{v['nodes'][0].get('failureSummary')}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def scrolls_sideways(frame) -> bool:
    """Whether the frame's page, once styled, is wider than its viewport."""
    width, viewport = rendered(frame).evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    return width > viewport


# Playwright cannot look into a frame's old document while its next page is on the way, so the
# old document reports itself: how long after the click the progress bar became visible, when a
# pressed button said "Sending…", and when the page said in words it was still waiting.
_WATCH_FEEDBACK = """() => {
  let clicked = null;
  const seen = new Set();
  const say = (what) => {
    if (clicked === null || seen.has(what)) { return; }
    seen.add(what);
    console.log("feedback:" + what + ":" + Math.round(performance.now() - clicked));
  };
  document.addEventListener("click", () => { clicked = performance.now(); }, true);
  new MutationObserver(() => {
    const bar = document.querySelector(".progress");
    if (bar && getComputedStyle(bar).visibility === "visible") { say("progress-bar"); }
    if ([...document.querySelectorAll("button")].some(b => b.textContent.trim() === "Sending…")) {
      say("sending");
    }
    const waiting = document.querySelector("[data-waiting]");
    if (waiting && waiting.textContent.startsWith("Still waiting") &&
        !waiting.classList.contains("visually-hidden")) { say("still-waiting"); }
  }).observe(document.documentElement, {attributes: true, childList: true, subtree: true,
                                        characterData: true});
}"""


def watch_feedback(page) -> dict[str, int]:
    """Milliseconds from the next click in the site's frame to each sign of feedback, filled in
    as the frame reports them: {"progress-bar": ms, "sending": ms, "still-waiting": ms}."""
    seen: dict[str, int] = {}

    def record(message) -> None:
        if message.text.startswith("feedback:"):
            _, what, ms = message.text.split(":")
            seen.setdefault(what, int(ms))

    page.on("console", record)
    frame_object(page).evaluate(_WATCH_FEEDBACK)
    return seen
