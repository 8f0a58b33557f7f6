"""Contact pages in a real browser: reading, replying, expiry mid-reply, accessibility, small screens."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import frame_object, frame_url, site_frame


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings inside the site's frame."""
    results = Axe().run(frame_object(page))
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]} {v['nodes'][0].get('failureSummary')}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


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
    expect(frame.get_by_text("Say in a few words what you need.")).to_be_visible()
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations_on_any_contact_page(page, demo, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    found = {"home": serious_violations(page)}
    frame.get_by_role("link", name="My tickets", exact=True).click()
    expect(frame.locator("table.tickets")).to_be_visible()
    found["tickets"] = serious_violations(page)
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    frame.get_by_role("button", name="Send reply").click()  # empty: shows a field error
    expect(frame.get_by_text("Write something before sending.")).to_be_visible()
    found["ticket with error"] = serious_violations(page)
    frame.get_by_role("link", name="New request", exact=True).click()
    expect(frame.get_by_role("heading", name="Raise a new request")).to_be_visible()
    found["new request"] = serious_violations(page)
    page.goto(f"{demo.site_url}/portal/")  # outside the portal: the explanation page
    found["not opened from DeskDirector"] = [
        f"{v['id']}" for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")]
    assert found == {name: [] for name in found}


def test_pages_fit_a_360_pixel_screen(browser, demo, screenshot_dir):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{demo.sandbox_url}/portal/")
        frame = site_frame(page)
        frame.get_by_role("link", name="My tickets", exact=True).click()
        expect(frame.locator("table.tickets")).to_be_visible()
        inner = frame_object(page)
        widths = inner.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        page.locator("iframe#site").screenshot(path=str(screenshot_dir / "narrow-360--tickets.png"))
        assert widths[0] <= widths[1], f"horizontal scrolling at 360 px: {widths}"
        frame.locator("table.tickets a").first.click()
        expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
        widths = inner.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"horizontal scrolling at 360 px: {widths}"
    finally:
        context.close()
