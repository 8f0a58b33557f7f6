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
