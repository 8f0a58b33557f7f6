"""The sandbox's other dialect (v4): moved paths, comments, service types, string ids, statuses
per queue, one envelope, no server-side paging; spoken over the same seeded help desk."""

from __future__ import annotations

import pytest

from ddsite.sandbox import create_sandbox

from .conftest import ISSUED_TOKENS

PORTAL = "/api/v4/client-portal"
TECH = "/api/v4/tech"


@pytest.fixture
def sandbox():
    return create_sandbox(dialect="v4")


@pytest.fixture
def api(sandbox):
    return sandbox.test_client()


def _auth(sandbox, kind: str, user_id: int) -> dict:
    token = sandbox.extensions["sandbox"]["tokens"].mint(kind, user_id)
    ISSUED_TOKENS.add(token)
    return {"Authorization": f"DdAccessToken {token}"}


def test_an_unknown_dialect_is_refused():
    with pytest.raises(ValueError, match="speaks v2 and v4"):
        create_sandbox(dialect="v9")


def test_lists_are_whole_unsorted_and_in_the_connector_envelope(sandbox, api):
    headers = _auth(sandbox, "m", 201)
    reply = api.get(f"{TECH}/tickets?status=any&skip=20&take=5&orderBy=age", headers=headers).json
    assert set(reply) == {"total", "resultsCount", "results"}
    every_ticket = len(sandbox.extensions["sandbox"]["desk"].tickets)
    assert reply["total"] == reply["resultsCount"] == len(reply["results"]) == every_ticket > 100
    ids = [row["id"] for row in reply["results"]]
    assert ids == sorted(ids, key=int) and all(isinstance(i, str) for i in ids)


def test_tickets_carry_string_ids_a_queue_comments_and_a_service_type(sandbox, api):
    row = api.get(f"{TECH}/tickets/1005", headers=_auth(sandbox, "m", 201)).json
    assert row["queue"] == {"id": "2", "name": "Projects"} and row["status"]["id"].startswith("2")
    assert isinstance(row["serviceType"]["id"], str) and "requestType" not in row
    assert "notes" not in row and row["comments"]
    comment = row["comments"][0]
    assert set(comment) == {"id", "comment", "isPublic", "createdOn", "author"}
    assert all(isinstance(a["id"], str) for a in row["assignedAgents"])


def test_statuses_belong_to_a_queue(sandbox, api):
    headers = _auth(sandbox, "m", 201)
    missing = api.get(f"{TECH}/statuses", headers=headers)
    assert missing.status_code == 400 and "queueId" in missing.json["errors"]
    assert api.get(f"{TECH}/statuses?queueId=9", headers=headers).status_code == 404
    projects = api.get(f"{TECH}/statuses?queueId=2", headers=headers).json
    assert set(projects) == {"results", "totalResults"}
    assert [s["id"] for s in projects["results"]] == ["21", "22", "23", "24", "25", "26"]


def test_patch_takes_string_ids_and_the_tickets_own_queue_statuses(sandbox, api):
    headers = _auth(sandbox, "m", 201)
    numbers = api.patch(f"{TECH}/tickets/1005", headers=headers,
                        json={"assignedAgents": [{"id": 202}]})
    assert numbers.status_code == 422 and "strings" in numbers.json["errors"]["assignedAgents"][0]
    other_queue = api.patch(f"{TECH}/tickets/1005", headers=headers, json={"status": {"id": "12"}})
    assert other_queue.status_code == 422 and "queue" in other_queue.json["errors"]["status"][0]
    done = api.patch(f"{TECH}/tickets/1005", headers=headers,
                     json={"status": {"id": "26"}, "assignedAgents": [{"id": "202"}]})
    assert done.status_code == 200 and done.json["isClosed"] is True
    assert done.json["status"]["id"] == "26" and done.json["assignedAgents"][0]["id"] == "202"


def test_comments_go_in_with_their_visibility_and_stay_from_contacts(sandbox, api):
    agent = _auth(sandbox, "m", 201)
    private = api.post(f"{TECH}/tickets/1001/comments", headers=agent,
                       json={"comment": "Agents only", "isPublic": False})
    assert private.status_code == 201 and private.json["isPublic"] is False
    refused = api.post(f"{TECH}/tickets/1001/comments", headers=agent, json={"note": "v2 words"})
    assert refused.status_code == 422 and "comment" in refused.json["errors"]
    contact_id = sandbox.extensions["sandbox"]["desk"].tickets[1001]["contactId"]
    seen = api.get(f"{PORTAL}/tickets/1001", headers=_auth(sandbox, "c", contact_id)).json
    assert "Agents only" not in [c["comment"] for c in seen["comments"]]


def test_a_request_names_a_service_type(sandbox, api):
    headers = _auth(sandbox, "c", 101)
    types = api.get(f"{PORTAL}/service-types", headers=headers).json["results"]
    created = api.post(f"{PORTAL}/tickets", headers=headers,
                       json={"summary": "Dock", "serviceType": {"id": types[0]["id"]}})
    assert created.status_code == 201 and created.json["serviceType"]["id"] == types[0]["id"]
    wrong = api.post(f"{PORTAL}/tickets", headers=headers,
                     json={"summary": "Dock", "requestType": {"id": types[0]["id"]}})
    assert wrong.status_code == 422 and "serviceType" in wrong.json["errors"]


def test_agent_who_am_i_speaks_of_agents(sandbox, api):
    me = api.get(f"{TECH}/me", headers=_auth(sandbox, "m", 203)).json
    assert me["agentId"] == "203" and me["id"].endswith("~m~203") and me["userType"] == "Agent"
