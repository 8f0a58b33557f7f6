"""Insights in a real browser: from the shells' menus, filters, accessibility, small screens."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import frame_object, site_frame
from .test_portal_pages import serious_violations

MEASURE = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_agent_insights_from_the_tech_menu_with_a_company_filter(browser, demo, screenshot_dir, scheme):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(f"{demo.sandbox_url}/tech/")
        page.get_by_role("navigation", name="Portal menu").get_by_role("link", name="Insights").click()
        frame = site_frame(page)
        expect(frame.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
        expect(frame.get_by_role("img", name="Created and closed per week")).to_be_visible()
        expect(frame.get_by_role("link", name="Insights")).to_have_attribute("aria-current", "page")
        page.locator("iframe#site").screenshot(path=str(screenshot_dir / f"insights-agent-{scheme}.png"))
        assert serious_violations(page) == []
        frame.get_by_label("Company").select_option(label="Harbour Dental")
        frame.get_by_label("Period").select_option("26")
        frame.get_by_role("button", name="Apply").click()
        expect(frame.get_by_role("heading", name="Insights: Harbour Dental")).to_be_visible()
        expect(frame.locator("#table-weekly tbody tr")).to_have_count(26)
        assert serious_violations(page) == []
        with page.expect_download() as download:
            frame.get_by_role("link", name="Download the numbers (CSV)").click()
        assert re.fullmatch(r"insights-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
        with open(download.value.path(), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        assert lines[0] == "chart,category,series,value" and len(lines) > 26 * 2
    finally:
        context.close()


def test_a_company_manager_finds_insights_in_the_site_navigation(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/?as=101")
    frame = site_frame(page)
    frame.get_by_role("link", name="Insights").click()
    expect(frame.get_by_role("heading", name="Insights: Harbour Dental")).to_be_visible()
    expect(frame.get_by_role("img", name="Open tickets by status")).to_be_visible()
    expect(frame.get_by_role("table", name="Open tickets by status: the numbers")).to_be_visible()
    shot("contact-insights")
    assert serious_violations(page) == []


def test_a_contact_without_company_permission_sees_why(page, demo, shot):
    page.goto(f"{demo.sandbox_url}/portal/?as=102")
    frame = site_frame(page)
    expect(frame.get_by_role("link", name="My tickets", exact=True)).to_be_visible()
    expect(frame.get_by_role("link", name="Insights")).to_have_count(0)
    page.goto(f"{demo.sandbox_url}/portal/insights")
    expect(frame.get_by_role("heading", name="Insights are for company managers")).to_be_visible()
    shot("refused")
    assert serious_violations(page) == []


@pytest.mark.parametrize("app_name, user", [("tech", 201), ("portal", 101)])
def test_insights_fit_a_360_pixel_screen(browser, demo, screenshot_dir, app_name, user):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{demo.sandbox_url}/{app_name}/insights?as={user}")
        frame = site_frame(page)
        expect(frame.get_by_role("img", name="Age of open tickets")).to_be_visible()
        page.locator("iframe#site").screenshot(path=str(screenshot_dir / f"narrow-360--insights-{app_name}.png"))
        widths = frame_object(page).evaluate(MEASURE)
        assert widths[0] <= widths[1], f"horizontal scrolling at 360 px: {widths}"
        assert serious_violations(page) == []
    finally:
        context.close()
