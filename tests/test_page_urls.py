"""URLs built once for templates: the same URLs `url_for` writes, for every case it could differ."""

from __future__ import annotations

import pytest
from flask import g, session, url_for

from ddsite.page_urls import UrlMaker, asset_url, head_urls, page_url

IDS = [1, 7, 42, 1001, 918273645546372819, 10**30]


@pytest.mark.parametrize("script_root", ["", "/support"])
@pytest.mark.parametrize("in_url", [False, True], ids=["cookie", "handle-in-url"])
def test_row_links_are_what_url_for_writes(app, script_root, in_url):
    here = "/tech/queue?view=open&q=918273645546372819&ddsid=x"
    with app.test_request_context(here, base_url=f"http://localhost{script_root}"):
        g.session_in_url = in_url
        session.handle = "h4ndle-x"
        makers = {("tech.ticket", ()): UrlMaker("tech.ticket", "ticket_id"),
                  ("tech.take", ("next",)): UrlMaker("tech.take", "ticket_id", next=here),
                  ("portal.ticket", ()): UrlMaker("portal.ticket", "ticket_id")}
        for (endpoint, extra), make in makers.items():
            values = {"next": here} if extra else {}
            for ticket_id in IDS:
                assert make(ticket_id) == url_for(endpoint, ticket_id=ticket_id, **values)
        link = makers[("tech.take", ("next",))](5)
        assert link.startswith(f"{script_root}/tech/tickets/5/take?")
        assert ("ddsid=h4ndle-x" in link) is in_url


def test_values_it_does_not_fill_go_to_url_for(app):
    with app.test_request_context("/tech/queue"):
        make = UrlMaker("tech.ticket", "ticket_id")
        # Ids written as text ("21"), booleans, zero and below: url_for decides, as it would.
        assert make("21") == url_for("tech.ticket", ticket_id="21") == "/tech/tickets/21"
        assert make(0) == url_for("tech.ticket", ticket_id=0)
        assert make(True) == url_for("tech.ticket", ticket_id=True)


def test_a_path_that_writes_numbers_otherwise_is_left_to_url_for(app):
    app.add_url_rule("/padded/<int(fixed_digits=4):number>", "padded", lambda number: "")
    app.add_url_rule("/by-query", "by_query", lambda: "")
    with app.test_request_context("/"):
        padded = UrlMaker("padded", "number")
        assert padded(5) == "/padded/0005"
        assert padded(12345) == "/padded/12345"
        assert UrlMaker("padded", "number")(5) == "/padded/0005"  # what the check found is kept
        by_query = UrlMaker("by_query", "number")  # the value lands in the query, not the path
        assert by_query(5) == "/by-query?number=5"
        assert by_query(918273645546372819) == "/by-query?number=918273645546372819"


@pytest.mark.parametrize("script_root", ["", "/support"])
def test_asset_urls_are_what_url_for_writes_and_are_built_once(app, script_root):
    with app.test_request_context("/tech/", base_url=f"http://localhost{script_root}"):
        g.session_in_url = True
        session.handle = "h4ndle-x"
        for endpoint, values in (("static", {"filename": "ddsite.css"}), ("brand_css", {})):
            first = asset_url(endpoint, **values)
            assert first == url_for(endpoint, **values)
            assert first.startswith(f"{script_root}/") and "?v=" in first and "ddsid" not in first
        known = dict(app.extensions["ddsite_asset_urls"])
        assert len(known) == 2
        asset_url("static", filename="ddsite.css")
        assert app.extensions["ddsite_asset_urls"] == known  # the second time: nothing built


def test_asset_urls_follow_file_changes_in_debug_mode(app, tmp_path):
    app.debug = True
    with app.test_request_context("/tech/"):
        assert asset_url("static", filename="ddsite.js") == url_for("static", filename="ddsite.js")
        assert asset_url("tech.home") == url_for("tech.home")  # not an asset: plain url_for
    assert app.extensions["ddsite_asset_urls"] == {}


def _serve_once(app) -> None:
    # Page URLs are remembered only once the app has served a request (its rules are final).
    app.test_client().get("/healthz")


@pytest.mark.parametrize("script_root", ["", "/support"])
def test_page_urls_are_what_url_for_writes_and_are_built_once(app, script_root):
    _serve_once(app)
    calls = [("tech.home", {}), ("tech.queue", {"view": "open", "page": "2"}),
             ("tech.ticket", {"ticket_id": 1005}), ("tech.queue", {"q": "ä & <b>", "page": 2})]
    with app.test_request_context("/tech/", base_url=f"http://localhost{script_root}"):
        for endpoint, values in calls:
            assert page_url(endpoint, **values) == url_for(endpoint, **values)
        assert page_url("tech.home").startswith(f"{script_root}/tech/")
        known = dict(app.extensions["ddsite_page_urls"])
        assert len(known) == len(calls)
        for endpoint, values in calls:
            page_url(endpoint, **values)
        assert app.extensions["ddsite_page_urls"] == known  # the second time: nothing built


def test_what_page_urls_leave_to_url_for(app):
    _serve_once(app)
    with app.test_request_context("/tech/"):
        g.session_in_url = True
        session.handle = "h4ndle-x"
        assert page_url("tech.home") == url_for("tech.home") == "/tech/?ddsid=h4ndle-x"
        g.session_in_url = False
        # Flask's own options, a value that is not text or a whole number (True is written
        # "True", 1 is "1"), a relative endpoint: url_for decides, and nothing is remembered.
        assert page_url("tech.home", _anchor="main") == "/tech/#main"
        assert page_url("tech.queue", page=True) == url_for("tech.queue", page=True)
        assert page_url("tech.queue", page=1) == "/tech/queue?page=1"
        assert page_url(".home") == url_for(".home")
        assert list(app.extensions["ddsite_page_urls"].values()) == ["/tech/queue?page=1"]


def test_a_blueprints_own_url_processor_turns_remembering_off(app):
    from flask import Blueprint

    bp = Blueprint("dated", __name__, url_prefix="/tech/dated")
    bp.add_url_rule("/", "index", lambda: "")
    bp.url_defaults(lambda endpoint, values: values.setdefault("day", g.get("day", "mon")))
    app.register_blueprint(bp)
    _serve_once(app)
    with app.test_request_context("/tech/"):
        g.day = "tue"
        assert page_url("dated.index") == "/tech/dated/?day=tue"
        g.day = "wed"
        assert page_url("dated.index") == "/tech/dated/?day=wed"
        assert page_url("tech.home") == "/tech/"
    assert app.extensions["ddsite_page_urls"] == {}


def test_before_the_first_request_nothing_is_remembered(app):
    with app.test_request_context("/tech/"):
        assert page_url("tech.home") == "/tech/"
    assert app.extensions["ddsite_page_urls"] == {}


@pytest.mark.parametrize("script_root", ["", "/support"])
def test_head_urls_are_the_four_asset_urls_kept_together(app, script_root):
    with app.test_request_context("/tech/", base_url=f"http://localhost{script_root}"):
        head = head_urls()
        assert head == (asset_url("static", filename="favicon.svg"),
                        asset_url("static", filename="ddsite.css"), asset_url("brand_css"),
                        asset_url("static", filename="ddsite.js"))
        assert head.stylesheet.startswith(f"{script_root}/static/ddsite.css?v=")
        assert head_urls() is head  # the second page: nothing built
    app.debug = True  # files change, and their fingerprints with them: built every time
    with app.test_request_context("/tech/"):
        assert head_urls() is not head_urls()
