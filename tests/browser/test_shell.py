"""The sandbox shells framing ddsite in a real browser: sign-in, switching, cookies, expiry."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from .conftest import frame_url, site_frame


def test_contact_shell_shows_the_contact_home_in_the_iframe(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    expect(frame.get_by_text("Harbour Dental")).to_be_visible()
    url = frame_url(page)
    assert url.startswith(demo.site_url) and "access_token" not in url and "ddsid" not in url
    shot("contact-home")


def test_tech_shell_shows_the_agent_home(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/tech/")
    expect(site_frame(page).get_by_role("heading", name="Signed in as Sam Reyes")).to_be_visible()
    shot("agent-home")


def test_switching_user_in_the_shell_switches_the_iframe(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/")
    expect(site_frame(page).get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    page.get_by_label("Signed in as").select_option("103")
    page.get_by_role("button", name="Switch user").click()
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Welcome, Mia Thompson")).to_be_visible()
    expect(frame.get_by_text("Olivia")).to_have_count(0)
    shot("switched-to-mia")


def test_session_survives_navigation_inside_the_cross_site_iframe(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    expect(frame.get_by_role("heading", name="My tickets")).to_be_visible()
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    frame.get_by_role("link", name="Home", exact=True).click()
    expect(frame.get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    assert "ddsid" not in frame_url(page)  # the partitioned cookie carried the session
    shot("after-navigation")


def test_url_handle_keeps_the_session_when_the_cookie_is_dropped(
        page, demo_without_partitioned_cookies, shot):
    demo = demo_without_partitioned_cookies
    page.goto(f"{demo.sandbox_url}/portal/")
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    assert "ddsid=" in frame_url(page)
    frame.get_by_role("link", name="My tickets", exact=True).click()
    expect(frame.get_by_role("heading", name="My tickets")).to_be_visible()
    frame.locator("table.tickets a").first.click()
    expect(frame.get_by_role("heading", name="Reply")).to_be_visible()
    assert "ddsid=" in frame_url(page)
    shot("url-handle")


def test_short_token_ends_and_the_link_reopens_through_the_shell(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/?ttl=5")
    frame = site_frame(page)
    expect(frame.get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    expect(frame.locator(".session-notice")).to_contain_text("Your session ends in")
    expect(page.locator("#token-expiry")).to_contain_text("Token expires in 0:0")
    shot("countdown")
    time.sleep(5.5)
    expect(page.locator("#token-expiry")).to_have_text("Token expired")
    frame.get_by_role("link", name="My tickets", exact=True).click()
    expect(frame.get_by_role("heading", name="Your DeskDirector session has ended")).to_be_visible()
    shot("session-ended")
    frame.get_by_role("link", name="Reopen from DeskDirector").click()
    page.wait_for_url(f"{demo.sandbox_url}/portal/")
    expect(site_frame(page).get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    shot("reopened")
