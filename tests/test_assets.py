"""Lean requests: fingerprinted static files and brand.css cached for a year, no session for them,
the cookie sent only when it changes, compressed pages."""

from __future__ import annotations

import gzip
import os
import re

import pytest
import responses
from flask import Flask

from ddsite.assets import Fingerprints
from ddsite.config import DEFAULTS

from .conftest import HOST, sign_in

A_YEAR = "public, max-age=31536000, immutable"


def fetch(client, url: str):
    """GET and close the reply (a static file reply holds the file open until closed)."""
    reply = client.get(url)
    reply.get_data()
    reply.close()
    return reply


def asset_urls(html: str) -> list[str]:
    return re.findall(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"', html)


def test_page_assets_are_fingerprinted_and_cached_for_a_year(client, dd):
    sign_in(client, dd, "tech")
    page = client.get("/tech/").get_data(as_text=True)
    urls = asset_urls(page)
    assert {u.split("?")[0] for u in urls} == {"/static/ddsite.css", "/brand.css", "/static/ddsite.js",
                                              "/static/favicon.svg"}
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        reply = fetch(client, url)
        assert reply.status_code == 200
        assert reply.headers["Cache-Control"] == A_YEAR
        assert "Set-Cookie" not in reply.headers


def test_an_old_or_missing_fingerprint_is_not_kept(client):
    for url, cache in (("/static/ddsite.css", "no-cache"), ("/static/ddsite.css?v=000000000000", "no-cache"),
                       ("/brand.css", "no-store"), ("/brand.css?v=stale", "no-store")):
        reply = fetch(client, url)
        assert reply.status_code == 200
        assert reply.headers["Cache-Control"] == cache, url


def test_brand_css_fingerprint_follows_the_colour(config, tmp_path):
    from ddsite import create_app

    urls = []
    for color in ("#1f6feb", "#aa3300"):
        app = create_app({**config, "BRAND_COLOR": color})
        with app.test_request_context():
            from flask import url_for
            urls.append(url_for("brand_css"))
        reply = app.test_client().get(urls[-1])
        assert color in reply.get_data(as_text=True)
        assert reply.headers["Cache-Control"] == A_YEAR
        app.extensions["ddsite"].close()
    assert urls[0] != urls[1]


def test_in_debug_mode_a_changed_static_file_gets_a_new_fingerprint(tmp_path):
    (tmp_path / "site.css").write_text("a { color: red }")
    app = Flask(__name__, static_folder=str(tmp_path))
    app.config.update(BRAND_COLOR="#000", DEBUG=True)
    fingerprints = Fingerprints(app)
    before = fingerprints.of("static", {"filename": "site.css"})
    (tmp_path / "site.css").write_text("a { color: blue }")
    os.utime(tmp_path / "site.css", (1, 1))  # a different modification time, whatever the clock
    assert fingerprints.of("static", {"filename": "site.css"}) != before
    assert fingerprints.of("static", {"filename": "missing.css"}) is None
    assert fingerprints.of("portal.home", {}) is None


def test_static_files_never_open_the_session(client, dd, app):
    sign_in(client, dd, "tech")
    store = app.extensions["ddsite"].store
    reads = []
    original = store.get
    store.get = lambda key: reads.append(key) or original(key)
    try:
        for url in ("/static/ddsite.css", "/brand.css"):
            reply = fetch(client, url)
            assert reply.status_code == 200 and "Set-Cookie" not in reply.headers
        assert reads == []
        client.get("/tech/")
        assert reads  # a page does read it
    finally:
        store.get = original


def test_the_cookie_is_sent_only_when_it_changes(client, dd):
    sign_in(client, dd, "tech")
    handle = client.get_cookie("ddsite_session").value
    for _ in range(2):
        reply = client.get("/tech/")
        assert reply.status_code == 200
        assert "Set-Cookie" not in reply.headers
    assert client.get_cookie("ddsite_session").value == handle
    sign_in(client, dd, "tech")  # a new token: a new handle, so a new cookie
    assert client.get_cookie("ddsite_session").value != handle


@pytest.fixture
def every_page_compressed(config):
    """Compression from the first byte (by default small pages go out as they are)."""
    config["COMPRESS_MIN_SIZE"] = 0


def test_pages_are_compressed_for_browsers_that_accept_it(every_page_compressed, client, dd):
    sign_in(client, dd, "tech")
    reply = client.get("/tech/", headers={"Accept-Encoding": "gzip"})
    assert reply.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in reply.headers["Vary"]
    assert "Sam Agent" in gzip.decompress(reply.get_data()).decode()
    assert reply.headers["Cache-Control"] == "no-store"


def test_pages_below_the_minimum_size_go_out_uncompressed(config, dd):
    from ddsite import create_app

    config["COMPRESS_MIN_SIZE"] = 0
    client = create_app(config).test_client()
    sign_in(client, dd, "tech")
    size = len(client.get("/tech/").get_data())
    assert DEFAULTS["COMPRESS_MIN_SIZE"] > size  # this small page is one the default leaves alone
    for minimum, compressed in ((size + 1, False), (size, True)):
        client = create_app({**config, "COMPRESS_MIN_SIZE": minimum}).test_client()
        sign_in(client, dd, "tech")
        reply = client.get("/tech/", headers={"Accept-Encoding": "gzip"})
        assert reply.status_code == 200
        assert ("Content-Encoding" in reply.headers) is compressed, minimum
        assert "Accept-Encoding" in reply.headers["Vary"]  # a cache must still tell them apart
        body = gzip.decompress(reply.get_data()) if compressed else reply.get_data()
        assert "Sam Agent" in body.decode()


def test_pages_that_echo_request_text_are_not_compressed(every_page_compressed, client, dd):
    # BREACH: a page holding secrets that also echoes a search must not be compressed.
    sign_in(client, dd, "portal")
    dd.add(responses.GET, f"{HOST}/api/v4/portal/tickets", json={"total": 0, "results": []})
    reply = client.get("/portal/tickets?status=any&q=IjQ1YzA", headers={"Accept-Encoding": "gzip"})
    assert reply.status_code == 200
    assert "IjQ1YzA" in reply.get_data(as_text=True)
    assert "Content-Encoding" not in reply.headers
    dd.add(responses.GET, f"{HOST}/api/v4/portal/tickets", json={"total": 0, "results": []})
    unsearched = client.get("/portal/tickets?status=any", headers={"Accept-Encoding": "gzip"})
    assert unsearched.status_code == 200
    assert unsearched.headers["Content-Encoding"] == "gzip"
