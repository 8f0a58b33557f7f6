"""The endpoint table and the operator's override file."""

from __future__ import annotations

import json

import pytest
import responses

from ddsite import create_app
from ddsite.config import ConfigError
from ddsite.deskdirector import endpoints

from .conftest import CONTACT, HOST, make_token


def test_every_operation_the_pages_need_is_in_the_table():
    needed = {"portal.me", "portal.tickets", "portal.ticket", "portal.add_note",
              "portal.create_ticket", "portal.request_types", "tech.me", "tech.tickets",
              "tech.ticket", "tech.update_ticket", "tech.add_note", "tech.statuses",
              "tech.priorities", "tech.agents"}
    assert needed <= set(endpoints.DEFAULT_ENDPOINTS)
    assert endpoints.DEFAULT_ENDPOINTS["tech.update_ticket"].method == "PATCH"
    assert all(e.method != "PUT" for e in endpoints.DEFAULT_ENDPOINTS.values())


def test_override_file_changes_a_path(config, tmp_path, dd):
    overrides = tmp_path / "endpoints.json"
    overrides.write_text(json.dumps({"portal.me": "GET /api/v2/me/contact"}))
    config["ENDPOINTS_FILE"] = str(overrides)
    client = create_app(config).test_client()
    dd.add(responses.GET, HOST + "/api/v2/me/contact", json=CONTACT)
    assert client.get(f"/portal/?access_token={make_token()}&host={HOST}").status_code == 303


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ("[]", "JSON object"),
    (json.dumps({"portal.nope": "GET /x"}), "unknown endpoint 'portal.nope'"),
    (json.dumps({"portal.ticket": "GET /api/tickets"}), "placeholders {ticket_id}"),
    (json.dumps({"tech.tickets": "GET /t?page={page}"}), "may use {skip}, {sort}, {take}"),
    (json.dumps({"portal.ticket": "GET /t/{ticket_id}?q={queue_id}"}), "placeholders {ticket_id}"),
    (json.dumps({"dialect": "v3"}), "dialect must be one of v2, v4"),
    (json.dumps({"portal.ticket": "FETCH /api/{ticket_id}"}), "is not \"METHOD /path\""),
    (json.dumps({"tech.update_ticket": "PUT /api/v4/tech/tickets/{ticket_id}"}), "never sends a partial PUT"),
])
def test_broken_override_file_is_refused_at_start(config, tmp_path, content, message):
    overrides = tmp_path / "endpoints.json"
    overrides.write_text(content)
    config["ENDPOINTS_FILE"] = str(overrides)
    with pytest.raises(ConfigError) as caught:
        create_app(config)
    assert "DDSITE_ENDPOINTS_FILE" in str(caught.value) and message in str(caught.value)


def test_missing_override_file_is_refused(config, tmp_path):
    config["ENDPOINTS_FILE"] = str(tmp_path / "absent.json")
    with pytest.raises(ConfigError, match="cannot read"):
        create_app(config)


def test_the_dialect_picks_its_table_and_entries_keep_its_words(tmp_path):
    path = tmp_path / "endpoints.json"
    path.write_text(json.dumps({"dialect": "v4", "tech.me": "GET /api/v2/user/member",
                                "tech.statuses": "GET /api/v2/boards/{queue_id}/statuses"}))
    table = endpoints.load(str(path))
    assert table["portal.add_note"] == endpoints.V4_ENDPOINTS["portal.add_note"]
    assert table["tech.me"] == endpoints.Endpoint("GET", "/api/v2/user/member", "v4")
    assert table["tech.statuses"].names("queue_id")
    assert not table["tech.tickets"].names("skip") and not table["tech.tickets"].names("sort")


def test_query_templates_fill_what_is_given_and_drop_what_is_not():
    endpoint = endpoints.Endpoint("GET", "/api/t/{ticket_id}?skip={skip}&take={take}&mode=all")
    assert endpoint.url_path(ticket_id=5, skip=0, take=20) == "/api/t/5?skip=0&take=20&mode=all"
    assert endpoint.url_path(ticket_id="a b/c") == "/api/t/a%20b%2Fc?mode=all"
    assert endpoint.names("take") and not endpoint.names("sort")
