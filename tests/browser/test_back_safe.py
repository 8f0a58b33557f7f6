"""Back, bfcache and reload after a send never send again: a real browser, the demo on loopback."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from playwright.sync_api import expect

from .conftest import frame_object, frame_url, site_frame

REPLY_FORM = 'form[aria-labelledby="reply-heading"]'


def _open_a_ticket(page, demo) -> int:
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    return int(urlsplit(frame_url(page)).path.rsplit("/", 1)[1])


def _notes_with(demo, ticket_id: int, text: str) -> int:
    notes = demo.sandbox_app.extensions["sandbox"]["desk"].tickets[ticket_id]["notes"]
    return [n["note"] for n in notes].count(text)


def _form_key(page) -> str:
    return frame_object(page).evaluate(f"document.querySelector('{REPLY_FORM} input[name=form_key]').value")


def _send(page, text: str) -> str:
    frame = site_frame(page)
    key = _form_key(page)
    frame.get_by_label("Your reply").fill(text)
    frame.get_by_role("button", name="Send reply").click()
    expect(frame.get_by_text("Your reply was sent.")).to_be_visible()
    return key


def _as_the_old_page(page, key: str, text: str, *, sent_from_here: bool = False) -> None:
    """Make the current page what the browser kept of the page before the send."""
    frame_object(page).evaluate("""([selector, key, text, sent]) => {
        const form = document.querySelector(selector);
        form.querySelector('input[name=form_key]').value = key;
        form.querySelector('textarea').value = text;
        if (sent) { form.classList.add('submitting'); }  // as the submit left it
    }""", [REPLY_FORM, key, text, sent_from_here])


def test_back_after_sending_shows_an_empty_composer(page, demo, shot):
    _open_a_ticket(page, demo)
    frame = site_frame(page)
    _send(page, f"Sent once, then Back {time.time()}")
    page.evaluate("history.back()")  # the frame goes back; the shell page itself stays
    expect(frame.get_by_text("Your reply was sent.")).not_to_be_visible()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    shot("after-back")
    expect(frame.get_by_label("Your reply")).to_have_value("")


def test_page_restored_from_bfcache_with_a_sent_form_is_fetched_afresh(page, demo):
    _open_a_ticket(page, demo)
    frame = site_frame(page)
    text = f"Restored from bfcache {time.time()}"
    key = _send(page, text)
    # What the back/forward cache would show: the page as it was left, text and key included.
    _as_the_old_page(page, key, text, sent_from_here=True)
    frame_object(page).evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(frame.get_by_label("Your reply")).to_have_value("")
    assert _form_key(page) != key


def test_resubmitting_the_sent_form_says_already_sent_and_posts_nothing(page, demo, shot):
    ticket_id = _open_a_ticket(page, demo)
    frame = site_frame(page)
    text = f"Resubmitted {time.time()}"
    key = _send(page, text)
    _as_the_old_page(page, key, text)
    frame.get_by_role("button", name="Send reply").click()
    expect(frame.get_by_text("That was already sent, so it was not sent again.")).to_be_visible()
    shot("already-sent")
    assert frame_url(page).endswith("#note-" + str(
        demo.sandbox_app.extensions["sandbox"]["desk"].tickets[ticket_id]["notes"][-1]["id"]))
    assert _notes_with(demo, ticket_id, text) == 1


def test_same_text_again_asks_before_sending(page, demo, shot):
    ticket_id = _open_a_ticket(page, demo)
    frame = site_frame(page)
    text = f"Said twice {time.time()}"
    _send(page, text)
    frame.get_by_label("Your reply").fill(text)
    frame.get_by_role("button", name="Send reply").click()
    expect(frame.get_by_text("You sent this same text here 1 minute ago. Send it again?")).to_be_visible()
    shot("asks")
    assert _notes_with(demo, ticket_id, text) == 1
    frame.get_by_role("button", name="Yes, send it again").click()
    expect(frame.get_by_text("Your reply was sent.")).to_be_visible()
    assert _notes_with(demo, ticket_id, text) == 2
