"""Every page, light and dark, wide and at 360 px: no serious axe finding, no sideways scroll,
and a screenshot of each."""

from __future__ import annotations

import itertools

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from .conftest import frame_object, scrolls_sideways, serious_violations, site_frame

SIZES = {"wide": {"width": 1280, "height": 800}, "narrow": {"width": 360, "height": 740}}


def contact_pages(page, demo):
    """Walk the contact's pages; yields (name, state) once each is on screen."""
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    yield "contact-home"
    frame.get_by_role("link", name="My tickets", exact=True).click()
    expect(frame.locator("table.tickets")).to_be_visible()
    yield "contact-tickets"
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    yield "contact-ticket"
    frame.get_by_role("button", name="Send reply").click()
    expect(frame.locator(".error-summary")).to_be_visible()
    yield "contact-ticket-blank-reply"
    frame.get_by_role("link", name="New request", exact=True).click()
    frame.get_by_role("button", name="Raise request").click()
    expect(frame.locator(".error-summary")).to_be_visible()
    yield "contact-new-request-errors"
    frame_object(page).goto(f"{demo.site_url}/portal/tickets/999999")
    expect(frame.get_by_role("link", name="Back to my tickets")).to_be_visible()
    yield "contact-not-found"


def agent_pages(page, demo):
    """Walk the agent's pages; yields each one's name once it is on screen."""
    page.goto(f"{demo.sandbox_url}/tech/")
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Signed in as Sam Reyes")).to_be_visible()
    yield "agent-home"
    frame_object(page).goto(f"{demo.site_url}/tech/queue?view=open")
    expect(frame.locator("table.queue")).to_be_visible()
    yield "agent-queue"
    frame.locator("details.confirm summary").first.click()
    expect(frame.locator("details.confirm[open] button")).to_be_visible()
    yield "agent-queue-confirm-open"
    frame_object(page).goto(f"{demo.site_url}/tech/queue?view=closed")
    expect(frame.locator("table.queue")).to_be_visible()
    yield "agent-queue-closed"
    frame.locator("table.queue a[data-open]").first.click()
    expect(frame.get_by_role("heading", name="Reply or add a note")).to_be_visible()
    yield "agent-ticket"
    frame.get_by_role("button", name="Keyboard shortcuts").click()
    expect(frame.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    yield "agent-ticket-keyboard-help"
    frame.get_by_role("button", name="Send", exact=True).click()
    expect(frame.locator(".error-summary")).to_be_visible()
    yield "agent-ticket-blank-note"
    ticket_path = frame_object(page).url.split(demo.site_url)[1].split("?")[0]
    frame_object(page).goto(f"{demo.site_url}{ticket_path}/close")
    expect(frame.get_by_role("button", name="Yes, close it")).to_be_visible()
    yield "agent-close-confirm"
    frame_object(page).goto(f"{demo.site_url}/tech/nowhere")
    expect(frame.get_by_role("heading", name="This page is not there")).to_be_visible()
    yield "agent-not-found"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_is_accessible_and_fits(browser, demo, screenshot_dir, scheme, size):
    context = browser.new_context(viewport=SIZES[size], color_scheme=scheme)
    context.set_default_timeout(10_000)
    page = context.new_page()
    found, sideways = {}, []
    try:
        for name in itertools.chain(contact_pages(page, demo), agent_pages(page, demo)):
            found[name] = serious_violations(page)
            if size == "narrow" and scrolls_sideways(frame_object(page)):
                sideways.append(name)
            page.screenshot(path=str(screenshot_dir / f"{name}--{scheme}-{size}.png"))
    finally:
        context.close()
    assert found == {name: [] for name in found}
    assert sideways == []


def test_pages_are_audited_once_styled_not_while_the_stylesheet_is_on_the_way(browser, demo):
    # Under load the stylesheet came after the heading was visible and axe, run in between, saw
    # light unstyled text "against a white background" in dark mode. Holding it makes that moment.
    context = browser.new_context(color_scheme="dark")
    context.set_default_timeout(10_000)
    held = []
    context.route("**/static/ddsite.css*", lambda route: held.append(route))
    page = context.new_page()
    try:
        page.goto(f"{demo.sandbox_url}/portal/", wait_until="commit")
        expect(site_frame(page).get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
        unstyled = Axe().run(frame_object(page)).response["violations"]
        assert "color-contrast" in [v["id"] for v in unstyled]

        context.set_default_timeout(500)
        with pytest.raises(PlaywrightTimeoutError):
            serious_violations(page)
        context.set_default_timeout(10_000)
        stylesheet = held.pop()
        stylesheet.fulfill(response=stylesheet.fetch())
        assert serious_violations(page) == []
    finally:
        context.close()
