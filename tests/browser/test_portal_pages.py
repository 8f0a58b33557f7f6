"""Contact pages in a real browser: reading, replying, expiry mid-reply, accessibility, small screens."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from playwright.sync_api import expect

from .conftest import frame_object, frame_url, serious_violations, site_frame, watch_feedback


def test_list_ticket_reply_and_the_reply_is_shown(page, each_dialect_demo, shot):
    demo = each_dialect_demo
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    expect(frame.locator("table.tickets tbody tr").first).to_be_visible()
    shot("list")
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    frame.get_by_label("Your reply").fill("Thanks, I'll try that this afternoon.\nWill report back.")
    frame.get_by_role("button", name="Send reply").click()
    expect(frame.get_by_text("Your reply was sent.")).to_be_visible()
    latest = frame.locator("#latest")
    expect(latest).to_contain_text("Thanks, I'll try that this afternoon.")
    expect(latest).to_contain_text("Olivia Nguyen")
    shot("reply-shown")


def test_double_click_on_send_posts_once(page, demo):
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    ticket_id = int(urlsplit(frame_url(page)).path.rsplit("/", 1)[1])
    text = f"Double click {time.time()}"
    frame.get_by_label("Your reply").fill(text)
    frame.get_by_role("button", name="Send reply").dblclick()
    expect(frame.get_by_text("Your reply was sent.")).to_be_visible()
    notes = demo.sandbox_app.extensions["sandbox"]["desk"].tickets[ticket_id]["notes"]
    assert [n["note"] for n in notes].count(text) == 1


def test_new_request_opens_the_new_ticket(page, each_dialect_demo, shot):
    demo = each_dialect_demo
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="New request", exact=True).click()
    frame.get_by_role("button", name="Raise request").click()
    expect(frame.get_by_text("Say in a few words what you need.", exact=True)).to_be_visible()
    shot("validation")
    frame.get_by_label("Summary").fill("Projector in the board room is dead")
    frame.get_by_label("Request type").select_option(label="Hardware")
    frame.get_by_label("Details").fill("No power light at all.")
    frame.get_by_role("button", name="Raise request").click()
    expect(frame.get_by_role("heading", name="Projector in the board room is dead")).to_be_visible()
    expect(frame.get_by_text("was raised")).to_be_visible()
    shot("created")


def test_expiry_mid_reply_keeps_the_draft_and_restores_it_after_reopening(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/?ttl=6")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    ticket_id = urlsplit(frame_url(page)).path.rsplit("/", 1)[1]
    frame.get_by_label("Your reply").fill("Written slowly, over a long lunch.")
    time.sleep(6.5)
    frame.get_by_role("button", name="Send reply").click()
    expect(frame.get_by_role("heading", name="Your DeskDirector session has ended")).to_be_visible()
    expect(frame.get_by_text("What you wrote has been kept")).to_be_visible()
    shot("expired-with-draft")
    assert serious_violations(page) == []
    frame.get_by_role("link", name="Reopen from DeskDirector").click()
    page.wait_for_url(f"{demo.sandbox_url}/portal/deeplink?name=ticket&ticket_id={ticket_id}")
    frame = site_frame(page)
    expect(frame.get_by_label("Your reply")).to_have_value("Written slowly, over a long lunch.")
    expect(frame.get_by_text("has not been sent")).to_be_visible()
    shot("draft-restored")
    notes = demo.sandbox_app.extensions["sandbox"]["desk"].tickets[int(ticket_id)]["notes"]
    assert not any(n["note"] == "Written slowly, over a long lunch." for n in notes)
    frame.get_by_role("button", name="Send reply").click()
    expect(frame.locator("#latest")).to_contain_text("Written slowly, over a long lunch.")


def open_first_ticket(page, demo):
    """The contact's first listed ticket in the portal frame; returns the frame."""
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    return frame


def test_progress_bar_and_sending_while_deskdirector_is_slow(page, demo, latency, shot):
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    expect(frame.locator("table.tickets a").first).to_be_visible()
    latency(4.0)
    feedback = watch_feedback(page)
    frame.locator("table.tickets a").first.click(no_wait_after=True)
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible(timeout=15_000)
    # The old page said it was waiting before the next one came: a bar, then after a few
    # seconds in words (a polite status for screen readers).
    assert {"progress-bar", "still-waiting"} <= feedback.keys(), feedback
    expect(frame.locator(".progress")).to_be_hidden()
    latency(1.0)
    feedback = watch_feedback(page)
    frame.get_by_label("Your reply").fill(f"Slow but sure {time.time()}")
    frame.get_by_role("button", name="Send reply").click(no_wait_after=True)
    confirmation = frame.locator("#latest .sent-confirmation")
    expect(confirmation).to_have_text("Your reply was sent.", timeout=10_000)
    assert {"progress-bar", "sending"} <= feedback.keys(), feedback
    expect(confirmation).to_have_attribute("role", "status")
    expect(confirmation).to_be_in_viewport()  # beside what was sent, not at the top of the page
    shot("sent-confirmation-beside-the-reply")


def test_a_blank_reply_brings_the_eye_to_the_field(page, demo, shot):
    frame = open_first_ticket(page, demo)
    frame.get_by_role("button", name="Send reply").click()
    field = frame.get_by_label("Your reply")
    expect(field).to_be_focused()
    expect(field).to_be_in_viewport()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "note-errors")
    expect(frame.locator("#note-errors")).to_have_text("Write something before sending.")
    summary = frame.locator(".error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary.get_by_role("link", name="Your reply: Write something before sending.")) \
        .to_have_attribute("href", "#note")
    shot("blank-reply")


def test_new_request_errors_are_summarised_and_the_first_field_is_focused(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="New request", exact=True).click()
    frame.get_by_role("button", name="Raise request").click()
    expect(frame.get_by_label("Summary")).to_be_focused()
    links = frame.locator(".error-summary a")
    expect(links).to_have_text(["Summary: Say in a few words what you need.",
                                "Request type: Choose the kind of request."])
    links.nth(1).click()
    expect(frame.get_by_label("Request type")).to_be_focused()
    shot("summary")


def test_session_notice_stays_in_view_while_typing_at_the_bottom(browser, demo, screenshot_dir):
    context = browser.new_context(viewport={"width": 1000, "height": 520})
    page = context.new_page()
    try:
        page.goto(f"{demo.sandbox_url}/portal/?ttl=200")  # inside the last 5 minutes at once
        frame = site_frame(page)
        frame.get_by_role("link", name="My tickets", exact=True).click()
        frame.locator("table.tickets a").first.click()
        frame.get_by_label("Your reply").fill("Typing down here")
        frame_object(page).evaluate("window.scrollTo(0, document.body.scrollHeight)")
        assert frame_object(page).evaluate("window.scrollY") > 0
        notice = frame.locator(".session-notice")
        expect(notice).to_contain_text("Your session ends in")
        expect(notice).to_have_attribute("role", "status")
        expect(notice).to_have_attribute("aria-live", re.compile("polite|off"))
        expect(notice).to_be_in_viewport()
        assert notice.evaluate("n => n.getBoundingClientRect().top") == 0
        page.locator("iframe#site").screenshot(path=str(screenshot_dir / "sticky-session-notice.png"))
    finally:
        context.close()


def test_error_pages_keep_the_navigation_and_a_way_back(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    frame.get_by_label("Show").select_option("any")  # applies on change
    frame_object(page).wait_for_url("**status=any**")
    frame_object(page).goto(f"{demo.site_url}/portal/tickets/999999")
    expect(frame.get_by_role("heading", level=1)).to_have_text("This ticket or page is not there")
    expect(frame.locator("h1")).to_have_count(1)
    # Home, My tickets, New request, and Insights: the shell's first contact is a company manager.
    expect(frame.get_by_role("navigation", name="Sections").get_by_role("link")).to_have_count(4)
    back = frame.get_by_role("link", name="Back to my tickets")
    expect(back).to_have_attribute("href", re.compile(r"status=any"))
    expect(frame.locator(".detail")).to_have_text("Error 404")
    shot("not-found")
    faults = demo.sandbox_app.extensions["sandbox"]["faults"]
    faults.set(error_rate=1.0, kinds=["500"])
    try:
        back.click()
        expect(frame.get_by_role("heading", level=1)).to_have_text("DeskDirector had a problem")
        expect(frame.locator(".problem p").first).to_have_text("Try again in a moment.")
        expect(frame.locator(".detail")).to_contain_text("HTTP 500")
        expect(frame.get_by_role("link", name="Try again")).to_be_visible()
        shot("upstream-error")
    finally:
        faults.set(error_rate=0.0)


def test_lists_keep_their_state_and_a_ticket_number_opens_the_ticket(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    frame.get_by_label("Show").select_option("closed")
    frame_object(page).wait_for_url("**status=closed**")
    first = frame.locator("table.tickets tbody tr").first
    ticket_id = first.locator("td").first.inner_text().lstrip("#")
    first.get_by_role("link").click()
    frame.get_by_role("link", name="← My tickets").click()
    frame_object(page).wait_for_url("**status=closed**")
    expect(frame.get_by_label("Show")).to_have_value("closed")
    frame.get_by_role("link", name="Home", exact=True).click()
    frame.get_by_role("link", name="My tickets", exact=True).click()  # the top bar keeps it too
    expect(frame.get_by_label("Show")).to_have_value("closed")
    frame.get_by_label("Search").fill(f"#{ticket_id}")
    frame.get_by_label("Search").press("Enter")
    expect(frame.get_by_role("heading", level=1)).to_contain_text(f"#{ticket_id} ")
    frame_object(page).goto(f"{demo.site_url}/portal/tickets?status=everything")
    expect(frame.get_by_role("alert")).to_contain_text("Show: Not a valid choice.")
    shot("filter-error-names-the-filter")
