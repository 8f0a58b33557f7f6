"""Agent pages in a real browser: take, note, update, and what the contact then sees."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import frame_object, site_frame
from .test_portal_pages import serious_violations


def show_queue(page, view: str):
    """Open the queue in the TECH frame and switch it to `view`; returns the frame."""
    frame = site_frame(page)
    frame.get_by_role("link", name="Queue", exact=True).click()
    frame.get_by_label("Show").select_option(view)
    frame.get_by_role("button", name="Apply").click()
    frame_object(page).wait_for_url(f"**view={view}**")
    return frame


def test_take_note_update_and_the_contact_sees_no_internal_note(page, each_dialect_demo, shot):
    demo = each_dialect_demo
    page.goto(f"{demo.sandbox_url}/tech/")
    frame = show_queue(page, "unassigned")
    first_row = frame.locator("table.tickets tbody tr").first
    ticket_id = int(re.sub(r"\D", "", first_row.locator("td").first.inner_text()))
    shot("unassigned")
    first_row.get_by_text("Take", exact=True).click()
    first_row.get_by_role("button", name=f"Yes, assign #{ticket_id} to me").click()
    expect(frame.get_by_text(f"#{ticket_id} is now assigned to you.")).to_be_visible()

    frame.get_by_label("Show").select_option("mine")
    frame.get_by_role("button", name="Apply").click()
    expect(frame.locator("table.tickets")).to_contain_text(f"#{ticket_id}")
    frame.locator(f'a[href^="/tech/tickets/{ticket_id}"]').first.click()
    expect(frame.get_by_role("heading", name="Add a note")).to_be_visible()
    secret = f"Checked the switch logs {time.time()}"
    frame.get_by_label("Note", exact=True).fill(secret)
    frame.get_by_role("button", name="Add note").click()
    expect(frame.locator("#latest")).to_contain_text(secret)
    expect(frame.locator("#latest .badge.internal")).to_be_visible()

    frame.get_by_label("Status").select_option(label="Waiting on client")
    frame.get_by_role("button", name="Update", exact=True).click()
    expect(frame.get_by_text("The ticket was updated.")).to_be_visible()
    shot("updated")

    frame.get_by_role("link", name="Queue", exact=True).click()
    row = frame.locator("table.tickets tbody tr", has_text=f"#{ticket_id}")
    expect(row).to_contain_text("Waiting on client")
    expect(row).to_contain_text("Sam Reyes")
    shot("queue-reflects-it")

    desk = demo.sandbox_app.extensions["sandbox"]["desk"]
    contact_id = desk.tickets[ticket_id]["contactId"]
    page.goto(f"{demo.sandbox_url}/portal/?as={contact_id}")
    page.goto(f"{demo.sandbox_url}/portal/deeplink?name=ticket&ticket_id={ticket_id}")
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Conversation")).to_be_visible()
    expect(frame.get_by_text("Waiting on client").first).to_be_visible()
    assert secret not in frame.locator("body").inner_text()
    shot("contact-view")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations_on_agent_pages(page, demo, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{demo.sandbox_url}/tech/")
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Signed in as Sam Reyes")).to_be_visible()
    found = {"home": serious_violations(page)}
    show_queue(page, "open")
    expect(frame.locator("table.tickets")).to_be_visible()
    found["queue"] = serious_violations(page)
    frame.locator("table.tickets tbody tr a").first.click()
    expect(frame.get_by_role("heading", name="Add a note")).to_be_visible()
    found["ticket"] = serious_violations(page)
    assert found == {name: [] for name in found}


def test_agent_pages_fit_a_360_pixel_screen(browser, demo, screenshot_dir):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    measure = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    try:
        page.goto(f"{demo.sandbox_url}/tech/")
        frame = show_queue(page, "open")
        expect(frame.locator("table.tickets")).to_be_visible()
        page.locator("iframe#site").screenshot(path=str(screenshot_dir / "narrow-360--queue.png"))
        widths = frame_object(page).evaluate(measure)
        assert widths[0] <= widths[1], f"horizontal scrolling at 360 px: {widths}"
        frame.locator("table.tickets tbody tr a").first.click()
        expect(frame.get_by_role("heading", name="Add a note")).to_be_visible()
        widths = frame_object(page).evaluate(measure)
        assert widths[0] <= widths[1], f"horizontal scrolling at 360 px: {widths}"
    finally:
        context.close()
