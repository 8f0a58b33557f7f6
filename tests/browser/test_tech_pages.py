"""Agent pages in a real browser: take, note, update, and what the contact then sees."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from .conftest import frame_object, frame_url, site_frame

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

    frame.get_by_label("Status", exact=True).select_option(label="Waiting on client")
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


def wide_page(browser):
    """A fresh context at 1280×800, the size the queue's density is judged at."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    return context, context.new_page()


def test_queue_is_one_line_per_ticket_with_view_tabs_and_counts(browser, demo, screenshot_dir):
    context, page = wide_page(browser)
    try:
        page.goto(f"{demo.sandbox_url}/tech/")
        frame = show_queue(page, "open")
        rows = frame.locator("table.queue tbody tr")
        expect(rows).to_have_count(20)
        heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
        assert max(heights) * 15 <= 800, f"fewer than 15 tickets per 800 px: rows of {heights}"
        summary = rows.first.locator("td.summary")
        expect(summary).to_have_attribute("title", re.compile(r"\w"))  # the whole summary on hover
        for view, label in VIEW_TABS.items():
            expect(view_tab(frame, view)).to_have_text(re.compile(rf"{label}\s+\d+"))
        total = re.search(r"of (\d+)", frame.locator(".pager").inner_text()).group(1)
        expect(view_tab(frame, "open")).to_contain_text(total)
        page.locator("iframe#site").screenshot(path=str(screenshot_dir / "queue-1280.png"))
        frame.get_by_label("Sort by").select_option("priority")  # applies on change
        frame_object(page).wait_for_url("**sort=priority**")
        expect(frame.get_by_label("Sort by")).to_have_value("priority")
        view_tab(frame, "closed").click()
        frame_object(page).wait_for_url("**view=closed**")
        expect(frame.locator("table.queue thead")).not_to_contain_text("Actions")
    finally:
        context.close()


def test_send_and_set_status_is_one_request(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/tech/")
    frame = show_queue(page, "unassigned")
    row = frame.locator("table.queue tbody tr", has_not_text="Waiting on client").first
    ticket_id = int(row.locator("td").first.inner_text().lstrip("#"))
    row.locator("a[data-open]").click()
    composer = frame.locator("#composer")
    internal_colour = composer.evaluate("c => getComputedStyle(c).backgroundColor")
    frame.get_by_label("Public reply").check()
    # A public reply looks different from an internal note before anything is sent.
    assert composer.evaluate("c => getComputedStyle(c).backgroundColor") != internal_colour
    expect(frame.get_by_text("The contact sees this reply")).to_be_visible()
    text = f"Sent the replacement today {time.time()}"
    frame.get_by_label("Note", exact=True).fill(text)
    frame.get_by_role("button", name="Send and set status").click()  # no status chosen yet
    status_field = frame.get_by_label("Status to set when sending")
    expect(status_field).to_be_focused()
    expect(frame.get_by_text("Choose the status to set, or press Send.", exact=True)).to_be_visible()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST"
            and r.url.startswith(demo.site_url) else None)
    status_field.select_option(label="Waiting on client")
    frame.get_by_role("button", name="Send and set status").click()
    confirmation = frame.locator("#latest [role=status]")
    expect(confirmation).to_have_text(
        "Your reply was sent to the contact. Status set to Waiting on client.")
    expect(frame.locator("#latest")).to_contain_text(text)
    assert len(posts) == 1, posts
    stored = demo.sandbox_app.extensions["sandbox"]["desk"].tickets[ticket_id]
    assert stored["statusId"] == 3
    assert [n for n in stored["notes"] if n["note"] == text][0]["isInternal"] is False
    shot("sent-and-status-set")


def test_agent_and_contact_messages_look_different(page, demo):
    page.goto(f"{demo.sandbox_url}/tech/")
    frame = show_queue(page, "open")
    frame.locator("table.queue tbody tr a[data-open]").first.click()
    agent_note = frame.locator(".note.from-agent:not(.internal)").first
    contact_note = frame.locator(".note.from-contact").first
    if not agent_note.count():
        frame.get_by_label("Public reply").check()
        frame.get_by_label("Note", exact=True).fill("On my way.")
        frame.get_by_role("button", name="Send", exact=True).click()
    expect(contact_note).to_contain_text("Contact")
    expect(agent_note).to_contain_text("Support team")
    style = "n => [getComputedStyle(n).backgroundColor, getComputedStyle(n).borderLeftColor]"
    assert agent_note.evaluate(style) != contact_note.evaluate(style)


def test_take_returns_to_the_same_place_in_the_queue(browser, demo, screenshot_dir):
    context, page = wide_page(browser)
    try:
        page.goto(f"{demo.sandbox_url}/tech/")
        frame = show_queue(page, "open")
        frame.get_by_label("Sort by").select_option("age")
        frame_object(page).wait_for_url("**sort=age**")
        before = frame_url(page)
        rows = frame.locator("table.queue tbody tr")
        row = rows.nth(16)
        row.scroll_into_view_if_needed()
        scrolled = frame_object(page).evaluate("window.scrollY")
        assert scrolled > 0
        ticket_id = row.locator("td").first.inner_text().lstrip("#")
        row.get_by_text("Take", exact=True).click()
        row.get_by_role("button", name=f"Yes, assign #{ticket_id} to me").click()
        notice = frame.get_by_text(f"#{ticket_id} is now assigned to you.")
        expect(notice).to_be_in_viewport()
        assert frame_url(page) == before
        assert abs(frame_object(page).evaluate("window.scrollY") - scrolled) < 40
        page.locator("iframe#site").screenshot(path=str(screenshot_dir / "queue-after-take.png"))
    finally:
        context.close()


def test_keyboard_path_through_the_queue(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/tech/")
    frame = show_queue(page, "open")
    rows = frame.locator("table.queue tbody tr")
    frame.get_by_role("heading", name="Queue").click()  # the frame has the keyboard
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("selected"))
    expect(rows.nth(0).locator("a[data-open]")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile("selected"))
    expect(rows.nth(1).locator("a[data-open]")).to_be_focused()
    page.keyboard.press("?")
    help_panel = frame.get_by_role("heading", name="Keyboard shortcuts")
    expect(help_panel).to_be_visible()
    shot("keyboard-help")
    page.keyboard.press("Escape")
    expect(help_panel).to_be_hidden()
    take = rows.nth(1).locator("details.confirm").first
    take.locator("summary").click()
    expect(take).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(take).not_to_have_attribute("open", "")
    ticket_id = rows.nth(1).locator("td").first.inner_text().lstrip("#")
    rows.nth(1).locator("a[data-open]").focus()
    page.keyboard.press("Enter")
    expect(frame.get_by_role("heading", level=1)).to_contain_text(f"#{ticket_id} ")
    frame.get_by_role("heading", name="Description").click()
    page.keyboard.press("r")
    expect(frame.get_by_label("Note", exact=True)).to_be_focused()
    page.keyboard.type("typed, not a shortcut: jkr?")
    expect(frame.get_by_label("Note", exact=True)).to_have_value("typed, not a shortcut: jkr?")
