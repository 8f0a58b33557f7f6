"""The sandbox rotates its signing key from the shell; the site (DDSITE_JWT_KEYS=auto) follows."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import site_frame


def test_after_a_rotation_the_next_token_signs_in_by_its_new_kid(page, demo, shot):
    tokens = demo.sandbox_app.extensions["sandbox"]["tokens"]
    page.goto(f"{demo.sandbox_url}/portal/")
    expect(site_frame(page).get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    before = tokens.key_id
    page.get_by_role("button", name="Rotate signing key").click()
    page.wait_for_url(f"{demo.sandbox_url}/portal/")
    # the shell came back with a token signed by the new key; the site fetched it by kid
    expect(site_frame(page).get_by_role("heading", name="Welcome, Olivia Nguyen")).to_be_visible()
    assert tokens.key_id != before
    keys = demo.site_app.extensions["ddsite"].instance_keys(demo.sandbox_url)
    assert keys.keys_for(tokens.key_id) and keys.keys_for(before)
    shot("signed-in-after-rotation")
