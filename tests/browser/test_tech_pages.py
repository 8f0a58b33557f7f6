"""Agent pages in a real browser: take, note, update, and what the contact then sees."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from .conftest import frame_object, site_frame

VIEW_TABS = {"mine": "Assigned to me", "unassigned": "Unassigned", "open": "All open",
             "closed": "Closed"}


def show_queue(page, view: str):
    """Open the queue in the TECH frame and switch it to `view` by its tab; returns the frame."""
    frame = site_frame(page)
    frame.get_by_role("link", name="Queue", exact=True).click()
    view_tab(frame, view).click()
    frame_object(page).wait_for_url(f"**view={view}**")
    return frame


def view_tab(frame, view: str):
    """The queue's tab for `view` (its name also holds the count)."""
    return frame.get_by_role("navigation", name="Views").get_by_role(
        "link", name=re.compile(f"^{VIEW_TABS[view]}"))


def test_take_note_update_and_the_contact_sees_no_internal_note(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/tech/")
    frame = show_queue(page, "unassigned")
    first_row = frame.locator("table.tickets tbody tr").first
    ticket_id = int(re.sub(r"\D", "", first_row.locator("td").first.inner_text()))
    shot("unassigned")
    first_row.get_by_text("Take", exact=True).click()
    first_row.get_by_role("button", name=f"Yes, assign #{ticket_id} to me").click()
    expect(frame.get_by_text(f"#{ticket_id} is now assigned to you.")).to_be_visible()

    view_tab(frame, "mine").click()
    expect(frame.locator("table.tickets")).to_contain_text(f"#{ticket_id}")
    frame.locator(f'a[href^="/tech/tickets/{ticket_id}"]').first.click()
    expect(frame.get_by_role("heading", name="Reply or add a note")).to_be_visible()
    secret = f"Checked the switch logs {time.time()}"
    frame.get_by_label("Note", exact=True).fill(secret)
    frame.get_by_role("button", name="Send", exact=True).click()
    expect(frame.locator("#latest")).to_contain_text(secret)
    expect(frame.locator("#latest .badge.internal")).to_be_visible()
    expect(frame.locator("#latest [role=status]")).to_have_text("Your internal note was added.")

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
