"""The sandbox itself: seeded data, visibility, PUT/PATCH semantics, tokens, shells, faults."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from ddsite.sandbox import create_sandbox

from .conftest import ISSUED_TOKENS


@pytest.fixture
def sandbox():
    return create_sandbox(site_url="http://127.0.0.1:9999/")


@pytest.fixture
def api(sandbox):
    return sandbox.test_client()


def _auth(sandbox, kind: str, user_id: int, ttl: int | None = None) -> dict:
    token = sandbox.extensions["sandbox"]["tokens"].mint(kind, user_id, ttl)
    ISSUED_TOKENS.add(token)
    return {"Authorization": f"DdAccessToken {token}"}


def test_seed_is_large_and_varied(sandbox):
    desk = sandbox.extensions["sandbox"]["desk"]
    assert len(desk.companies) >= 3 and len(desk.contacts) >= 12 and len(desk.agents) >= 5
    assert len(desk.tickets) >= 60
    tickets = desk.tickets.values()
    assert len({t["statusId"] for t in tickets}) >= 5 and len({t["priorityId"] for t in tickets}) == 4
    assert len({t["requestTypeId"] for t in tickets}) >= 5
    assert any(n["isInternal"] for t in tickets for n in t["notes"])
    assert sum(len(t["notes"]) > 1 for t in tickets) > 30
    ages = sorted(t["createdOn"] for t in tickets)
    assert (ages[-1] - ages[0]).days > 60


def test_seeded_notes_are_written_in_their_authors_role(sandbox):
    from ddsite.sandbox.data import _AGENT_REPLIES, _CONTACT_REPLIES

    desk = sandbox.extensions["sandbox"]["desk"]
    public = [n for t in desk.tickets.values() for n in t["notes"] if not n["isInternal"]]
    by_agents = [n["note"] for n in public if n["createdBy"]["userType"] == "Member"]
    by_contacts = [n["note"] for n in public if n["createdBy"]["userType"] == "Client"]
    assert len(by_agents) > 50 and len(by_contacts) > 50
    assert set(by_agents) <= set(_AGENT_REPLIES) and set(by_contacts) <= set(_CONTACT_REPLIES)


def test_missing_expired_and_forged_tokens_get_401_unauthorized(sandbox, api):
    from cryptography.hazmat.primitives.asymmetric import rsa

    forged = jwt.encode({"sub": "acme~c~101", "exp": 9999999999},
                        rsa.generate_private_key(public_exponent=65537, key_size=2048),
                        algorithm="RS256")
    for headers in ({}, {"Authorization": "DdAccessToken nonsense"},
                    {"Authorization": f"DdAccessToken {forged}"}, {"Authorization": "Bearer x"}):
        response = api.get("/api/v2/user/client", headers=headers)
        assert response.status_code == 401
        assert response.json["errorCode"] == "Unauthorized" and response.json["message"]


def test_tokens_carry_the_documented_claims(sandbox):
    token = sandbox.extensions["sandbox"]["tokens"].mint("m", 201, 5)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "acme~m~201" and claims["database"] == "acme"
    assert claims["exp"] - claims["iat"] == 5


def test_public_keys_are_served_as_pem_in_json_with_kid_and_a_cache_header(sandbox, api):
    response = api.get("/api/v4/auth/public-keys")
    assert response.status_code == 200 and "max-age=3600" in response.headers["Cache-Control"]
    [key] = response.json["keys"]
    tokens = sandbox.extensions["sandbox"]["tokens"]
    assert key["kid"] == tokens.key_id and "BEGIN PUBLIC KEY" in key["publicKey"]


def test_rotation_signs_with_a_new_kid_and_old_tokens_still_work(sandbox, api):
    tokens = sandbox.extensions["sandbox"]["tokens"]
    old_kid = tokens.key_id
    old_token = tokens.mint("c", 101)
    assert sandbox.test_client().post("/sandbox/keys/rotate").json["kid"] == tokens.key_id
    new_token = tokens.mint("c", 101)
    assert jwt.get_unverified_header(new_token)["kid"] == tokens.key_id != old_kid
    served = api.get("/api/v4/auth/public-keys").json["keys"]
    assert [k["kid"] for k in served] == [tokens.key_id, old_kid]
    assert [k["status"] for k in served] == ["current", "previous"]
    for token in (old_token, new_token):
        response = api.get("/api/v2/user/client", headers={"Authorization": f"DdAccessToken {token}"})
        assert response.status_code == 200


def test_a_token_already_accepted_is_refused_once_expired_or_its_key_retired(sandbox, api,
                                                                              monkeypatch):
    # Tokens are remembered once verified; the memory must not outlive the token or its key.
    import time

    from ddsite.sandbox.tokens import KEYS_KEPT

    tokens = sandbox.extensions["sandbox"]["tokens"]
    short, long = tokens.mint("c", 101, 60), tokens.mint("c", 101)

    def status(token: str) -> int:
        return api.get("/api/v2/user/client",
                       headers={"Authorization": f"DdAccessToken {token}"}).status_code

    assert status(short) == status(short) == status(long) == 200
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)
    assert status(short) == 401 and status(long) == 200
    monkeypatch.setattr(time, "time", real_time)
    for _ in range(KEYS_KEPT - 1):
        tokens.rotate()
    assert status(long) == 200  # its key is still kept
    tokens.rotate()
    assert status(long) == 401 and status(tokens.mint("c", 101)) == 200


def test_timestamps_and_replies_are_written_as_before(sandbox):
    # Hand-written timestamps and orjson replies: the same text as strftime, the same JSON
    # as Flask's own writer, and what orjson cannot write still goes out.
    import json
    from datetime import UTC, datetime, timedelta, timezone
    from decimal import Decimal

    from ddsite.sandbox.data import iso

    for moment in (datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
                   datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5)))):
        assert iso(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    data = {"b": [1, None, True], "a": {"name": "Lucas Fernández — \u2603", "n": 1.5}}
    with sandbox.app_context():
        reply = sandbox.json.response(data)
        assert reply.mimetype == "application/json" and reply.get_data().endswith(b"\n")
        assert json.loads(reply.get_data()) == data
        assert list(json.loads(reply.get_data())) == ["a", "b"]  # keys sorted, as Flask does
        assert json.loads(sandbox.json.dumps(data)) == data
        assert json.loads(sandbox.json.response({"d": Decimal("1.5")}).get_data()) == {"d": "1.5"}


def test_contact_sees_own_tickets_and_manager_sees_the_company(sandbox, api):
    desk = sandbox.extensions["sandbox"]["desk"]
    plain = next(c for c in desk.contacts.values() if not c["canSeeCompanyTickets"])
    manager = next(c for c in desk.contacts.values() if c["canSeeCompanyTickets"])
    rows = api.get("/api/v4/portal/tickets?status=any&take=100",
                   headers=_auth(sandbox, "c", plain["id"])).json["results"]
    assert rows and all(r["contact"]["id"] == plain["id"] for r in rows)
    rows = api.get("/api/v4/portal/tickets?status=any&take=100",
                   headers=_auth(sandbox, "c", manager["id"])).json["results"]
    assert {r["account"]["id"] for r in rows} == {manager["companyId"]}
    assert len({r["contact"]["id"] for r in rows}) > 1


def test_internal_notes_never_reach_a_contact(sandbox, api):
    desk = sandbox.extensions["sandbox"]["desk"]
    ticket = next(t for t in desk.tickets.values() if any(n["isInternal"] for n in t["notes"]))
    headers = _auth(sandbox, "c", ticket["contactId"])
    body = api.get(f"/api/v4/portal/tickets/{ticket['id']}", headers=headers).json
    assert body["notes"] and not any(n["isInternal"] for n in body["notes"])
    internal_texts = {n["note"] for n in ticket["notes"] if n["isInternal"]}
    rows = api.get("/api/v4/portal/tickets?status=any&take=100", headers=headers).json["results"]
    row = next(r for r in rows if r["id"] == ticket["id"])
    assert row["latestNote"] is None or row["latestNote"]["notePreview"] not in internal_texts
    agent_view = api.get(f"/api/v4/tech/tickets/{ticket['id']}", headers=_auth(sandbox, "m", 201)).json
    assert any(n["isInternal"] for n in agent_view["notes"])


def test_another_contacts_ticket_is_not_found(sandbox, api):
    desk = sandbox.extensions["sandbox"]["desk"]
    plain = next(c for c in desk.contacts.values() if not c["canSeeCompanyTickets"])
    other = next(t for t in desk.tickets.values() if t["companyId"] != plain["companyId"])
    response = api.get(f"/api/v4/portal/tickets/{other['id']}", headers=_auth(sandbox, "c", plain["id"]))
    assert response.status_code == 404


def test_paging_search_and_filters(sandbox, api):
    headers = _auth(sandbox, "m", 201)
    everything = api.get("/api/v4/tech/tickets?status=any&take=100", headers=headers).json
    assert everything["total"] >= 60 and len(everything["results"]) == min(100, everything["total"])
    first = api.get("/api/v4/tech/tickets?status=any&take=25", headers=headers).json
    second = api.get("/api/v4/tech/tickets?status=any&take=25&skip=25", headers=headers).json
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    beyond = api.get("/api/v4/tech/tickets?status=any&skip=1000", headers=headers).json
    assert beyond["results"] == [] and beyond["total"] == everything["total"]
    closed = api.get("/api/v4/tech/tickets?status=closed&take=100", headers=headers).json["results"]
    assert closed and all(r["isClosed"] for r in closed)
    mine = api.get("/api/v4/tech/tickets?status=any&assigned=me&take=100", headers=headers).json["results"]
    assert mine and all(201 in [a["id"] for a in r["assignedAgents"]] for r in mine)
    unassigned = api.get("/api/v4/tech/tickets?status=any&assigned=unassigned&take=100",
                         headers=headers).json["results"]
    assert unassigned and all(not r["assignedAgents"] for r in unassigned)
    found = api.get("/api/v4/tech/tickets?status=any&search=printer", headers=headers).json["results"]
    assert found and all("printer" in r["summary"].lower() for r in found)
    by_number = api.get("/api/v4/tech/tickets?status=any&search=%231005", headers=headers).json["results"]
    assert [r["id"] for r in by_number] == [1005]


@pytest.mark.parametrize("query, field", [("take=0", "take"), ("take=500", "take"),
                                          ("skip=-1", "skip"), ("status=maybe", "status"),
                                          ("assigned=them", "assigned")])
def test_bad_query_gets_field_errors(sandbox, api, query, field):
    response = api.get(f"/api/v4/tech/tickets?{query}", headers=_auth(sandbox, "m", 201))
    assert response.status_code == 400 and field in response.json["errors"]


def test_patch_changes_only_the_fields_sent_and_null_clears(sandbox, api):
    desk = sandbox.extensions["sandbox"]["desk"]
    ticket = next(t for t in desk.tickets.values() if t["assignedAgentIds"])
    before = dict(ticket)
    headers = _auth(sandbox, "m", 201)
    response = api.patch(f"/api/v4/tech/tickets/{ticket['id']}", json={"priority": {"id": 4}},
                         headers=headers)
    assert response.status_code == 200 and response.json["priority"]["id"] == 4
    assert ticket["statusId"] == before["statusId"] and ticket["summary"] == before["summary"]
    assert ticket["assignedAgentIds"] == before["assignedAgentIds"]
    api.patch(f"/api/v4/tech/tickets/{ticket['id']}", json={"assignedAgents": None}, headers=headers)
    assert ticket["assignedAgentIds"] == [] and ticket["priorityId"] == 4


def test_put_replaces_the_whole_ticket(sandbox, api):
    desk = sandbox.extensions["sandbox"]["desk"]
    ticket = next(t for t in desk.tickets.values() if t["assignedAgentIds"])
    headers = _auth(sandbox, "m", 201)
    partial = api.put(f"/api/v4/tech/tickets/{ticket['id']}", json={"priority": {"id": 1}},
                      headers=headers)
    assert partial.status_code == 422  # a partial PUT clears the summary and status: refused
    whole = api.put(f"/api/v4/tech/tickets/{ticket['id']}", headers=headers, json={
        "summary": "Replaced", "status": {"id": 2}, "priority": {"id": 1}})
    assert whole.status_code == 200
    assert ticket["assignedAgentIds"] == [] and ticket["description"] == ""


def test_invalid_updates_get_per_field_messages(sandbox, api):
    headers = _auth(sandbox, "m", 201)
    response = api.patch("/api/v4/tech/tickets/1001", headers=headers, json={
        "status": {"id": 99}, "assignedAgents": [{"id": 1}], "colour": "red"})
    assert response.status_code == 422 and "colour" in response.json["errors"]
    response = api.patch("/api/v4/tech/tickets/1001", headers=headers, json={
        "status": {"id": 99}, "assignedAgents": [{"id": 1}]})
    assert set(response.json["errors"]) == {"status", "assignedAgents"}
    assert api.patch("/api/v4/tech/tickets/1001", headers=headers, data="x",
                     content_type="text/plain").status_code == 400


def test_notes_are_safe_under_concurrent_requests(sandbox):
    headers = _auth(sandbox, "m", 201)
    errors = []

    def post(n):
        response = sandbox.test_client().post("/api/v4/tech/tickets/1001/notes", headers=headers,
                                              json={"note": f"note {n}"})
        if response.status_code != 201:
            errors.append(response.status_code)

    before = len(sandbox.extensions["sandbox"]["desk"].tickets[1001]["notes"])
    threads = [threading.Thread(target=post, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    notes = sandbox.extensions["sandbox"]["desk"].tickets[1001]["notes"]
    assert errors == [] and len(notes) == before + 40
    assert len({n["id"] for n in notes}) == len(notes)


def _frame(response) -> tuple[str, dict]:
    html = response.get_data(as_text=True)
    src = html.split('<iframe id="site"')[1].split('src="')[1].split('"')[0].replace("&amp;", "&")
    parts = urlsplit(src)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    ISSUED_TOKENS.add(query["access_token"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


def test_portal_shell_frames_the_site_with_token_host_and_sandbox_flags(sandbox):
    shell = sandbox.test_client()
    response = shell.get("/portal/")
    html = response.get_data(as_text=True)
    assert ('sandbox="allow-same-origin allow-scripts allow-forms allow-popups allow-downloads '
            'allow-top-navigation-by-user-activation"') in html
    url, query = _frame(response)
    assert url == "http://127.0.0.1:9999/portal/" and query["host"] == "http://localhost"
    assert jwt.decode(query["access_token"], options={"verify_signature": False})["sub"] == "acme~c~101"


@pytest.mark.parametrize("page", ["/", "/portal/", "/tech/"])
def test_sandbox_pages_link_an_icon_that_is_served(sandbox, page):
    """Browsers ask a top-level page for its icon; a missing one is a 404 in every console."""
    shell = sandbox.test_client()
    html = shell.get(page).get_data(as_text=True)
    icon = html.split('<link rel="icon" href="')[1].split('"')[0]
    served = shell.get(icon)
    assert served.status_code == 200 and served.mimetype == "image/svg+xml"
    served.close()


def test_user_switcher_changes_whose_token_is_minted(sandbox):
    shell = sandbox.test_client()
    switched = shell.get("/tech/?as=203")
    assert switched.status_code == 302
    _url, query = _frame(shell.get("/tech/"))
    assert jwt.decode(query["access_token"], options={"verify_signature": False})["sub"] == "acme~m~203"
    assert shell.get("/tech/?as=999").status_code == 400


def test_short_token_and_deep_links(sandbox):
    shell = sandbox.test_client()
    _url, query = _frame(shell.get("/portal/?ttl=5"))
    claims = jwt.decode(query["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 5
    url, _query = _frame(shell.get("/portal/deeplink?name=ticket&ticket_id=1007"))
    assert url.endswith("/portal/tickets/1007")
    url, _query = _frame(shell.get("/tech/deeplink?name=ticket&ticket_id=1002"))
    assert url.endswith("/tech/tickets/1002")
    url, _query = _frame(shell.get("/portal/deeplink?name=ticket&ticket_id=x"))
    assert url.endswith("/portal/")


def test_faults_are_settable_at_run_time(sandbox, api):
    headers = _auth(sandbox, "m", 201)
    assert api.post("/sandbox/faults", json={"errorRate": 1, "kinds": ["500"]}).status_code == 200
    assert api.get("/api/v4/tech/statuses", headers=headers).status_code == 500
    assert api.post("/sandbox/faults", json={"errorRate": 2}).status_code == 400
    assert api.post("/sandbox/faults", json={"kinds": ["teapot"]}).status_code == 400
    api.post("/sandbox/faults", json={"errorRate": 0})
    assert api.get("/api/v4/tech/statuses", headers=headers).status_code == 200
    assert api.get("/sandbox/faults").json == {"latency": 0.0, "errorRate": 0.0, "kinds": ["500"]}


def test_latency_spikes_come_before_or_after_the_work(sandbox, api):
    """A late answer whose work is already done is what makes a timed-out send ambiguous."""
    import time

    desk = sandbox.extensions["sandbox"]["desk"]
    ticket = next(iter(desk.tickets.values()))
    ticket_id = ticket["id"]
    faults = sandbox.extensions["sandbox"]["faults"]
    faults.set_spikes(1.0, 0.2)
    headers = _auth(sandbox, "c", ticket["contactId"])
    done_late = []
    for number in range(8):  # the sandbox's random numbers are seeded: the same split every run
        started = time.time()
        response = api.post(f"/api/v4/portal/tickets/{ticket_id}/notes", json={"note": f"spike {number}"},
                            headers=headers)
        assert response.status_code == 201 and time.time() - started >= 0.2
        note = next(n for n in desk.tickets[ticket_id]["notes"] if n["note"] == f"spike {number}")
        done_late.append(note["createdOn"].timestamp() - started >= 0.2)
    assert True in done_late and False in done_late  # some worked late, some answered late
    with pytest.raises(ValueError):
        faults.set_spikes(2, 0.1)
