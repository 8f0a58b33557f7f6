"""The look-up cache: hits, expiry, invalidation by changes, and never one user's lists for another."""

from __future__ import annotations

import uuid

import pytest
import responses

from ddsite import create_app
from ddsite.deskdirector.client import Client
from ddsite.deskdirector.endpoints import DEFAULT_ENDPOINTS
from ddsite.deskdirector.errors import Invalid
from ddsite.deskdirector.lookups import LookupCache

from .conftest import AGENT, CONTACT, HOST, make_token, sign_in

TECH = HOST + "/api/v4/tech"
PORTAL = HOST + "/api/v4/portal"
OTHER_AGENT = {**AGENT, "id": "acme~m~5", "name": "Priya Shah", "userName": "priya@msp.test"}
OTHER_CONTACT = {**CONTACT, "id": "acme~c~8", "firstName": "Kim", "userName": "kim@acme.test"}


@pytest.fixture
def config(config):
    return {**config, "LOOKUP_TTL": 300}


def tech_upstream(dd):
    dd.add(responses.GET, TECH + "/tickets/1005", json={"id": 1005, "summary": "Printer", "notes": []})
    dd.add(responses.GET, TECH + "/statuses", json=[{"id": 1, "name": "New"}])
    dd.add(responses.GET, TECH + "/priorities", json=[{"id": 1, "name": "Low"}])
    dd.add(responses.GET, TECH + "/agents", json=[{"id": 2, "name": "Sam Agent"}])


def calls_to(dd, path: str) -> int:
    return sum(1 for call in dd.calls if call.request.url.split("?")[0].endswith(path))


def test_the_agent_ticket_page_reads_look_ups_once_then_only_the_ticket(client, dd):
    sign_in(client, dd, "tech")
    tech_upstream(dd)
    for _ in range(3):
        assert client.get("/tech/tickets/1005").status_code == 200
    assert calls_to(dd, "/tickets/1005") == 3
    assert [calls_to(dd, p) for p in ("/statuses", "/priorities", "/agents")] == [1, 1, 1]


def test_agents_of_one_instance_share_the_lists(app, dd):
    first, second = app.test_client(), app.test_client()
    sign_in(first, dd, "tech")
    sign_in(second, dd, "tech", user=OTHER_AGENT)
    tech_upstream(dd)
    first.get("/tech/tickets/1005")
    page = second.get("/tech/tickets/1005")
    assert page.status_code == 200 and "Sam Agent" in page.get_data(as_text=True)
    assert calls_to(dd, "/statuses") == 1 and calls_to(dd, "/tickets/1005") == 2


def test_a_contacts_lists_are_never_shown_to_another_contact(app, dd):
    pat, kim = app.test_client(), app.test_client()
    sign_in(pat, dd)
    sign_in(kim, dd, user=OTHER_CONTACT)
    dd.add(responses.GET, PORTAL + "/request-types", json=[{"id": 1, "name": "Hardware"}])
    dd.add(responses.GET, PORTAL + "/priorities", json=[{"id": 3, "name": "High"}])
    for browser in (pat, kim, pat, kim):
        assert browser.get("/portal/new").status_code == 200
    # each contact read their own lists once; the second visit of each came from the cache
    assert calls_to(dd, "/request-types") == 2 and calls_to(dd, "/priorities") == 2


def test_a_refused_look_up_is_not_kept(client, dd):
    sign_in(client, dd, "tech")
    dd.add(responses.GET, TECH + "/tickets/1005", json={"id": 1005, "summary": "Printer", "notes": []})
    dd.add(responses.GET, TECH + "/statuses", status=403, json={"message": "Not for you"})
    dd.add(responses.GET, TECH + "/priorities", json=[])
    dd.add(responses.GET, TECH + "/agents", json=[])
    assert client.get("/tech/tickets/1005").status_code == 403
    dd.replace(responses.GET, TECH + "/statuses", json=[{"id": 1, "name": "New"}])
    assert client.get("/tech/tickets/1005").status_code == 200
    assert calls_to(dd, "/statuses") == 2


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache(app):
    return LookupCache(app.extensions["ddsite"].store, ttl=60, clock=Clock())


def test_lists_expire_after_their_time(cache):
    fetched = []

    def fetch():
        fetched.append(1)
        return [{"id": len(fetched)}]

    assert cache.get(HOST, "tech.statuses", None, fetch) == [{"id": 1}]
    cache._clock.now += 59
    assert cache.get(HOST, "tech.statuses", None, fetch) == [{"id": 1}]
    cache._clock.now += 2
    assert cache.get(HOST, "tech.statuses", None, fetch) == [{"id": 2}]
    assert len(fetched) == 2


def test_lists_are_kept_per_instance(cache):
    cache.get(HOST, "tech.agents", None, lambda: ["ours"])
    assert cache.get("https://help.example.net", "tech.agents", None, lambda: ["theirs"]) == ["theirs"]
    assert cache.get(HOST, "tech.agents", None, lambda: ["again"]) == ["ours"]


def test_a_contact_without_a_known_id_gets_nothing_cached(cache):
    cache.get(HOST, "portal.request_types", None, lambda: ["first"])
    assert cache.get(HOST, "portal.request_types", None, lambda: ["second"]) == ["second"]


def test_zero_seconds_keeps_nothing(app):
    cache = LookupCache(app.extensions["ddsite"].store, ttl=0)
    cache.get(HOST, "tech.statuses", None, lambda: ["first"])
    assert cache.get(HOST, "tech.statuses", None, lambda: ["second"]) == ["second"]


@pytest.mark.parametrize("outcome", ["accepted", "refused"])
def test_a_change_drops_the_lists_it_relied_on(app, dd, outcome):
    state = app.extensions["ddsite"]
    api = Client(state.transport, DEFAULT_ENDPOINTS, HOST, make_token("acme~m~2"), lookups=state.lookups)
    dd.add(responses.GET, TECH + "/statuses", json=[{"id": 1, "name": "New"}])
    dd.add(responses.GET, TECH + "/priorities", json=[{"id": 1, "name": "Low"}])
    api.tech.statuses(), api.tech.statuses(), api.tech.priorities()
    assert calls_to(dd, "/statuses") == 1
    if outcome == "accepted":
        dd.add(responses.PATCH, TECH + "/tickets/1005", json={"id": 1005, "summary": "x"})
        api.tech.update_ticket(1005, status=1)
    else:
        dd.add(responses.PATCH, TECH + "/tickets/1005", status=422,
               json={"message": "No such status", "errors": {"status": ["unknown"]}})
        with pytest.raises(Invalid):
            api.tech.update_ticket(1005, status=9)
    api.tech.statuses(), api.tech.priorities()
    assert calls_to(dd, "/statuses") == 2 and calls_to(dd, "/priorities") == 2


def test_a_new_request_drops_that_contacts_lists(app, dd):
    state = app.extensions["ddsite"]
    api = Client(state.transport, DEFAULT_ENDPOINTS, HOST, make_token(), lookups=state.lookups,
                 user="acme~c~7")
    dd.add(responses.GET, PORTAL + "/request-types", json=[{"id": 1, "name": "Hardware"}])
    dd.add(responses.POST, PORTAL + "/tickets", status=201, json={"id": 1077, "summary": "x"})
    api.portal.request_types()
    api.portal.create_ticket(summary="x", description="", request_type=1)
    api.portal.request_types()
    assert calls_to(dd, "/request-types") == 2


def test_workers_sharing_redis_share_the_lists(redis_url, config, dd):
    workers = [create_app({**config, "REDIS_URL": redis_url}) for _ in range(2)]
    try:
        host = f"https://{uuid.uuid4().hex}.example"  # the Redis server outlives this test
        dd.add(responses.GET, host + "/api/v4/tech/agents", json=[{"id": 2, "name": "Sam"}])
        for index, worker in enumerate(workers):
            api = worker.extensions["ddsite"].client(host, make_token("acme~m~2"))
            assert [a.name for a in api.tech.agents()] == ["Sam"]
            assert calls_to(dd, "/agents") == 1, f"worker {index} read it again"
    finally:
        for worker in workers:
            worker.extensions["ddsite"].close()


def test_statuses_are_kept_per_queue_and_a_change_drops_every_queues(cache):
    cache.get(HOST, "tech.statuses", None, lambda: ["first queue"], queue_id=1)
    cache.get(HOST, "tech.statuses", None, lambda: ["second queue"], queue_id=2)
    assert cache.get(HOST, "tech.statuses", None, lambda: ["again"], queue_id=1) == ["first queue"]
    cache.invalidate(HOST, "tech.update_ticket", None)
    assert cache.get(HOST, "tech.statuses", None, lambda: ["new"], queue_id=1) == ["new"]
    assert cache.get(HOST, "tech.statuses", None, lambda: ["new 2"], queue_id=2) == ["new 2"]
