"""The look-up cache: hits, expiry, invalidation by changes, and never one user's lists for another."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import responses

from ddsite import create_app
from ddsite.deskdirector.client import Client
from ddsite.deskdirector.endpoints import DEFAULT_ENDPOINTS
from ddsite.deskdirector.errors import Invalid, TokenRejected
from ddsite.deskdirector.lookups import LookupCache
from ddsite.sessions import claim_once, claims_folder, session_folder

from .conftest import AGENT, CONTACT, HOST, age_files, make_token, sign_in

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


def test_cached_look_ups_are_read_on_the_pages_own_thread_and_only_misses_fan_out(app, dd):
    state = app.extensions["ddsite"]
    api = state.client(HOST, make_token("acme~m~2"))
    tech_upstream(dd)
    fanned_out = []
    submit = state.transport.executor().submit

    def counted_submit(call, *args):
        fanned_out.append(call)
        return submit(call, *args)

    state.transport.executor().submit = counted_submit
    first = api.tech.ticket_with_choices(1005)
    assert len(fanned_out) == 3  # the three look-ups, beside the ticket
    fanned_out.clear()
    again = api.tech.ticket_with_choices(1005)
    assert fanned_out == [] and again == first  # the ticket alone, on this thread
    assert [calls_to(dd, p) for p in ("/tickets/1005", "/statuses", "/agents")] == [2, 1, 1]
    dd.add(responses.PATCH, TECH + "/tickets/1005", json={"id": 1005})
    api.call("tech.update_ticket", ticket_id=1005, json={"status": {"id": 1}})
    api.tech.ticket_with_choices(1005)  # the change dropped the lists: they fan out again
    assert len(fanned_out) == 3 and calls_to(dd, "/statuses") == 2


def test_a_read_that_fans_out_itself_is_not_taken_for_a_cached_one(app, dd):
    api = app.extensions["ddsite"].client(HOST, make_token("acme~m~2"))
    dd.add(responses.GET, TECH + "/priorities", json=[{"id": 1, "name": "Low"}])
    dd.add(responses.GET, TECH + "/agents", json=[{"id": 2, "name": "Sam Agent"}])
    api.tech.priorities()
    got = api.parallel(
        nested=lambda: api.parallel(agents=api.tech.agents, priorities=api.tech.priorities),
        priorities=api.tech.priorities)
    assert [ref.name for ref in got["nested"]["agents"]] == ["Sam Agent"]
    assert [ref.name for ref in got["priorities"]] == ["Low"]
    assert [calls_to(dd, p) for p in ("/agents", "/priorities")] == [1, 1]


def test_a_read_that_falls_back_on_any_exception_is_still_read_when_not_cached(app, dd):
    api = app.extensions["ddsite"].client(HOST, make_token("acme~m~2"))
    dd.add(responses.GET, TECH + "/priorities", json=[{"id": 1, "name": "Low"}])
    dd.add(responses.GET, TECH + "/tickets/1005", json={"id": 1005, "summary": "Printer", "notes": []})
    api.tech.priorities()

    def ticket_or_nothing():
        try:
            return api.tech.ticket(1005)
        except Exception:
            return None

    got = api.parallel(ticket=ticket_or_nothing, priorities=api.tech.priorities)
    assert got["ticket"].summary == "Printer" and calls_to(dd, "/tickets/1005") == 1
    assert [ref.name for ref in got["priorities"]] == ["Low"]


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
def background():
    """The pool background refreshes run on; shut down (waiting for them) by the test or after it."""
    with ThreadPoolExecutor(2) as pool:
        yield pool


def claims(app):
    """Refresh claims in the app's store, as the app makes them."""
    store, folder = app.extensions["ddsite"].store, claims_folder(app)
    return lambda name, seconds: claim_once(store, folder, name, seconds)


@pytest.fixture
def cache(app, background):
    return LookupCache(app.extensions["ddsite"].store, ttl=60, clock=Clock(), claim=claims(app),
                       background=lambda: background)


def test_lists_expire_after_their_time(cache):
    fetched = []

    def fetch():
        fetched.append(1)
        return [{"id": len(fetched)}]

    assert cache.get(HOST, "tech.statuses", None, fetch) == [{"id": 1}]
    cache._clock.now += 40  # not yet into the last fifth, when a refresh would start
    assert cache.get(HOST, "tech.statuses", None, fetch) == [{"id": 1}]
    cache._clock.now += 21
    assert cache.get(HOST, "tech.statuses", None, fetch) == [{"id": 2}]
    assert len(fetched) == 2


def test_lists_are_kept_per_instance(cache):
    cache.get(HOST, "tech.agents", None, lambda: ["ours"])
    assert cache.get("https://help.example.net", "tech.agents", None, lambda: ["theirs"]) == ["theirs"]
    assert cache.get(HOST, "tech.agents", None, lambda: ["again"]) == ["ours"]


def test_a_contact_without_a_known_id_gets_nothing_cached(cache):
    cache.get(HOST, "portal.request_types", None, lambda: ["first"])
    assert cache.get(HOST, "portal.request_types", None, lambda: ["second"]) == ["second"]


def test_without_a_claim_and_a_pool_a_list_is_read_again_only_once_expired(app):
    store = app.extensions["ddsite"].store
    cache = LookupCache(store, ttl=60, clock=Clock())
    fetched = []

    def fetch():
        fetched.append(1)
        return [len(fetched)]

    assert cache.get(HOST, "tech.statuses", None, fetch) == [1]
    cache._clock.now += 59  # deep into its last fifth: no refresh starts, nothing is claimed
    assert cache.get(HOST, "tech.statuses", None, fetch) == [1] and fetched == [1]
    cache._clock.now += 2
    assert cache.get(HOST, "tech.statuses", None, fetch) == [2]
    with pytest.raises(ValueError, match="both a claim and a background pool"):
        LookupCache(store, ttl=60, claim=lambda *_: True)


def test_zero_seconds_keeps_nothing(app, background):
    cache = LookupCache(app.extensions["ddsite"].store, ttl=0, claim=claims(app),
                        background=lambda: background)
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


class Upstream:
    """A look-up read that can be held until the test lets it answer; counts its reads."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.reads = 0
        self.started = threading.Event()
        self.go_on = threading.Event()

    def held(self):
        self.reads += 1
        self.started.set()
        assert self.go_on.wait(10), "the test never let the read answer"
        return self.answers.pop(0)

    def at_once(self):
        self.reads += 1
        return self.answers.pop(0)


def test_near_its_end_the_old_list_is_served_while_one_refresh_runs(cache, background):
    upstream = Upstream(["old"], ["new"])
    assert cache.get(HOST, "tech.agents", None, upstream.at_once) == ["old"]
    cache._clock.now += 50  # into the last fifth of its 60 s
    assert cache.get(HOST, "tech.agents", None, upstream.held) == ["old"]  # not waiting
    assert upstream.started.wait(10)
    for _ in range(3):  # while it runs, everyone gets the old list and nobody reads again
        assert cache.get(HOST, "tech.agents", None, upstream.held) == ["old"]
    upstream.go_on.set()
    background.shutdown(wait=True)
    assert upstream.reads == 2
    cache._clock.now += 20  # the old copy would have expired; the refreshed one lives on
    assert cache.get(HOST, "tech.agents", None, upstream.at_once) == ["new"]
    assert upstream.reads == 2


def test_a_miss_does_not_wait_for_a_refresh_still_queued_behind_other_work(app):
    # The background pool's only thread is busy (as with a page's own fan-out): the refresh
    # queued behind it has not started, and a page that misses must not wait for it.
    busy = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(busy.wait, 10)
        cache = LookupCache(app.extensions["ddsite"].store, ttl=60, clock=Clock(),
                            claim=claims(app), background=lambda: pool)
        assert cache.get(HOST, "tech.agents", None, lambda: ["old"]) == ["old"]
        cache._clock.now += 50  # into the last fifth: a refresh is queued, not started
        assert cache.get(HOST, "tech.agents", None, lambda: ["refreshed"]) == ["old"]
        cache._clock.now += 20  # the old copy has expired
        page = cache.get(HOST, "tech.agents", None, lambda: ["read by the page"])
        busy.set()
    assert page == ["read by the page"]


def test_a_list_answered_from_the_cache_alone_is_refreshed_near_its_end_too(cache, background):
    from ddsite.deskdirector.lookups import NOT_KEPT

    upstream = Upstream(["old"], ["new"])
    assert cache.kept(HOST, "tech.agents", None, upstream.at_once) is NOT_KEPT  # never reads
    assert upstream.reads == 0
    assert cache.get(HOST, "tech.agents", None, upstream.at_once) == ["old"]
    cache._clock.now += 50  # into the last fifth of its 60 s
    assert cache.kept(HOST, "tech.agents", None, upstream.held) == ["old"]
    assert upstream.started.wait(10)
    upstream.go_on.set()
    background.shutdown(wait=True)
    assert cache.kept(HOST, "tech.agents", None, upstream.at_once) == ["new"]
    cache._clock.now += 61
    assert cache.kept(HOST, "tech.agents", None, upstream.at_once) is NOT_KEPT
    assert upstream.reads == 2


def test_a_failed_refresh_keeps_serving_the_old_list_until_it_expires(cache, background, caplog):
    def refused():
        raise TokenRejected("gone")

    upstream = Upstream(["old"], ["new"])
    cache.get(HOST, "tech.statuses", None, upstream.at_once)
    cache._clock.now += 50
    assert cache.get(HOST, "tech.statuses", None, refused) == ["old"]
    background.shutdown(wait=True)
    assert "Refreshing a look-up list failed (TokenRejected)" in caplog.text
    assert cache.get(HOST, "tech.statuses", None, upstream.at_once) == ["old"]  # not retried
    cache._clock.now += 11
    assert cache.get(HOST, "tech.statuses", None, upstream.at_once) == ["new"]


class CountingStore:
    """The app's store, telling a waiting test how many look-up reads found nothing."""

    def __init__(self, store) -> None:
        self.store = store
        self.misses = 0
        self.changed = threading.Condition()

    def get(self, key):
        value = self.store.get(key)
        if value is None and ":generation:" not in key:
            with self.changed:
                self.misses += 1
                self.changed.notify_all()
        return value

    def set(self, key, value, timeout=None):
        return self.store.set(key, value, timeout=timeout)

    def wait_for_misses(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.misses >= count, timeout=10)


def test_concurrent_misses_in_one_process_make_one_upstream_read(app, background):
    store = CountingStore(app.extensions["ddsite"].store)
    cache = LookupCache(store, ttl=60, claim=claims(app), background=lambda: background)
    pages = 12
    reads = []

    def read():
        reads.append(1)
        store.wait_for_misses(pages)  # every page has found the list missing before it answers
        return ["Sam Agent"]

    with ThreadPoolExecutor(pages) as pool:
        got = list(pool.map(lambda _: cache.get(HOST, "tech.agents", None, read), range(pages)))
    assert got == [["Sam Agent"]] * pages
    assert len(reads) == 1


def test_a_read_refused_for_one_user_is_asked_again_by_those_who_waited(app, background):
    store = CountingStore(app.extensions["ddsite"].store)
    cache = LookupCache(store, ttl=60, claim=claims(app), background=lambda: background)

    def refused():
        store.wait_for_misses(2)  # the second page is waiting for this read
        raise TokenRejected("this token has ended")

    def second_page():
        store.wait_for_misses(1)
        return cache.get(HOST, "tech.agents", None, lambda: ["Sam Agent"])

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(second_page)
        with pytest.raises(TokenRejected):
            cache.get(HOST, "tech.agents", None, refused)
        assert waiting.result(10) == ["Sam Agent"]


def test_a_change_wins_over_a_refresh_under_way(cache, background):
    upstream = Upstream(["before"], ["read before the change"], ["after"])
    cache.get(HOST, "tech.statuses", None, upstream.at_once)
    cache._clock.now += 50
    assert cache.get(HOST, "tech.statuses", None, upstream.held) == ["before"]
    assert upstream.started.wait(10)
    cache.invalidate(HOST, "tech.update_ticket", None)  # while the refresh still runs
    upstream.go_on.set()
    background.shutdown(wait=True)
    assert cache.get(HOST, "tech.statuses", None, upstream.at_once) == ["after"]


def test_a_change_wins_over_a_miss_read_under_way(cache):
    upstream = Upstream(["read before the change"], ["after"])
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(cache.get, HOST, "tech.priorities", None, upstream.held)
        assert upstream.started.wait(10)
        cache.invalidate(HOST, "tech.update_ticket", None)
        upstream.go_on.set()
        assert reading.result(10) == ["read before the change"]  # it asked before the change
    assert cache.get(HOST, "tech.priorities", None, upstream.at_once) == ["after"]


@pytest.mark.parametrize("store", ["files", "redis"])
def test_an_apps_workers_refresh_a_list_once_in_their_own_pools(config, monkeypatch, request, store):
    config = {**config, "LOOKUP_TTL": 60}  # one session folder: one store
    if store == "redis":
        config["REDIS_URL"] = request.getfixturevalue("redis_url")
    workers = [create_app(config) for _ in range(2)]
    host = f"https://{uuid.uuid4().hex}.example"  # the Redis server outlives this test
    clock = Clock()
    caches = [worker.extensions["ddsite"].lookups for worker in workers]
    for cache in caches:
        monkeypatch.setattr(cache, "_clock", clock)
    upstream = Upstream(["old"], ["new"])
    try:
        caches[0].get(host, "tech.agents", None, upstream.at_once)
        clock.now += 55
        assert [c.get(host, "tech.agents", None, upstream.held) for c in caches] == [["old"]] * 2
        upstream.go_on.set()
        for worker in workers:  # the refresh ran in a worker's DeskDirector pool
            worker.extensions["ddsite"].transport.executor().shutdown(wait=True)
        assert upstream.reads == 2
        assert [c.get(host, "tech.agents", None, upstream.at_once) for c in caches] == [["new"]] * 2
    finally:
        for worker in workers:
            worker.extensions["ddsite"].close()


def test_a_store_failing_to_take_a_refresh_claim_leaves_nothing_waiting(app, background):
    answers = iter([ConnectionError("store went away"), True])

    def claim(name, seconds):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    cache = LookupCache(app.extensions["ddsite"].store, ttl=60, clock=Clock(), claim=claim,
                        background=lambda: background)
    upstream = Upstream(["old"], ["new"])
    cache.get(HOST, "tech.agents", None, upstream.at_once)
    cache._clock.now += 50
    with pytest.raises(ConnectionError):
        cache.get(HOST, "tech.agents", None, upstream.at_once)
    assert cache.get(HOST, "tech.agents", None, upstream.at_once) == ["old"]  # claims again
    background.shutdown(wait=True)
    cache._clock.now += 20
    assert cache.get(HOST, "tech.agents", None, upstream.at_once) == ["new"]
    assert upstream.reads == 2


# ---- each agent's queue counts: the same cache, its own life --------------------------------
def test_workers_sharing_redis_share_an_agents_queue_counts(redis_url, config, dd):
    from ddsite.tech.forms import VIEWS

    workers = [create_app({**config, "REDIS_URL": redis_url}) for _ in range(2)]
    try:
        host = f"https://{uuid.uuid4().hex}.example"  # the Redis server outlives this test
        dd.add(responses.GET, host + "/api/v4/tech/tickets", json={"total": 3, "results": []})
        for index, worker in enumerate(workers):
            api = worker.extensions["ddsite"].client(host, make_token("acme~m~2"), user="acme~m~2")
            _page, counts = api.tech.tickets_and_counts(VIEWS, "open")
            assert counts == {"mine": 3, "unassigned": 3, "open": 3, "closed": 3}
            assert calls_to(dd, "/tickets") == 4 + index, f"worker {index} read the counts again"
    finally:
        for worker in workers:
            worker.extensions["ddsite"].close()


def test_an_agent_not_yet_known_gets_no_counts_kept(app, dd):
    from ddsite.tech.forms import VIEWS

    dd.add(responses.GET, TECH + "/tickets", json={"total": 3, "results": []})
    api = app.extensions["ddsite"].client(HOST, make_token("acme~m~2"), user=None)
    api.tech.tickets_and_counts(VIEWS, "open"), api.tech.tickets_and_counts(VIEWS, "open")
    assert calls_to(dd, "/tickets") == 8


def test_a_change_wins_over_a_count_read_under_way(cache):
    counts = LookupCache(cache.store, ttl=60, clock=Clock(), kinds={"tech.ticket_count": "per user"},
                         invalidates={"tech.update_ticket": ("tech.ticket_count",)})

    def read_while_the_agent_changes_a_ticket():
        counts.invalidate(HOST, "tech.update_ticket", "acme~m~2")
        return 5  # what DeskDirector said before the change landed

    assert counts.read(HOST, "tech.ticket_count", "acme~m~2", read_while_the_agent_changes_a_ticket,
                       view="open") == 5
    assert counts.get(HOST, "tech.ticket_count", "acme~m~2", lambda: 6, view="open") == 6
    assert counts.get(HOST, "tech.ticket_count", "acme~m~2", lambda: 7, view="open") == 6


def test_a_count_read_on_every_page_is_written_only_when_it_changed_or_half_its_life_is_gone(
        cache, monkeypatch):
    counts = LookupCache(cache.store, ttl=60, clock=Clock(), kinds={"tech.ticket_count": "per user"})
    writes = []
    original_set = counts.store.set
    monkeypatch.setattr(counts.store, "set", lambda key, value, timeout=None: writes.append(value)
                        or original_set(key, value, timeout=timeout))

    def read(total: int) -> int:
        return counts.read(HOST, "tech.ticket_count", "acme~m~2", lambda: {"total": total},
                           kept=lambda page: page["total"], view="open")["total"]

    assert read(5) == 5 and writes == [(1000.0, 5)]
    counts._clock.now += 10
    assert read(5) == 5 and writes == [(1000.0, 5)]  # the same count, most of its life ahead
    assert read(6) == 6 and writes == [(1000.0, 5), (1010.0, 6)]  # changed: kept at once
    counts._clock.now += 29
    assert read(6) == 6 and len(writes) == 2
    counts._clock.now += 1  # half its life gone: renewed, so it does not run out under the page
    assert read(6) == 6 and writes[-1] == (1040.0, 6)
    counts._clock.now += 59  # the renewed copy still holds what the page last read
    assert counts.get(HOST, "tech.ticket_count", "acme~m~2", lambda: 7, view="open") == 6


def test_a_count_read_that_began_first_but_ended_last_does_not_replace_a_newer_one(cache):
    counts = LookupCache(cache.store, ttl=60, clock=Clock(), kinds={"tech.ticket_count": "per user"})

    def read(total: int, meanwhile=lambda: None) -> int:
        def fetch() -> dict:
            meanwhile()
            return {"total": total}
        return counts.read(HOST, "tech.ticket_count", "acme~m~2", fetch,
                           kept=lambda page: page["total"], view="open")["total"]

    def another_page_reads_the_new_count() -> None:
        counts._clock.now += 1
        read(6)

    assert read(5, meanwhile=another_page_reads_the_new_count) == 5  # slow, from before
    assert counts.get(HOST, "tech.ticket_count", "acme~m~2", lambda: 7, view="open") == 6


# ---- decoded once per process while the store's files are unchanged -------------------------------
def look_ups_decoded(decoded) -> list:
    """The look-up entries (fetched at, list) among what the store decoded."""
    return [value for value in decoded if isinstance(value, tuple)]


def test_an_agents_ticket_page_takes_unchanged_look_ups_from_memory_not_their_files(app, client,
                                                                                    dd, decoded):
    sign_in(client, dd, "tech")
    tech_upstream(dd)
    client.get("/tech/tickets/1005")  # read from DeskDirector and kept in the store
    age_files(session_folder(app))  # a while later
    client.get("/tech/tickets/1005")  # decoded from the store's files, once in this process
    decoded.clear()
    for _ in range(3):
        page = client.get("/tech/tickets/1005")
        assert page.status_code == 200 and "Sam Agent" in page.get_data(as_text=True)
    assert look_ups_decoded(decoded) == [] and decoded  # the session alone, read every page
    assert [calls_to(dd, p) for p in ("/statuses", "/priorities", "/agents")] == [1, 1, 1]


def test_another_workers_changes_to_the_lists_are_seen_on_the_very_next_page(config, app, client,
                                                                           dd, decoded):
    other = create_app(config)  # another worker on the same store folder
    try:
        sign_in(client, dd, "tech")
        tech_upstream(dd)
        dd.add(responses.PATCH, TECH + "/tickets/1005", json={"id": 1005})
        token = make_token(AGENT["id"])
        theirs = other.extensions["ddsite"]

        def page_from_memory() -> str:
            client.get("/tech/tickets/1005")  # what is missing is read and kept
            age_files(session_folder(app))  # a while later
            client.get("/tech/tickets/1005")  # the files as they now are, decoded once
            decoded.clear()
            page = client.get("/tech/tickets/1005").get_data(as_text=True)
            assert look_ups_decoded(decoded) == []
            return page

        page_from_memory()
        theirs.client(HOST, token).call("tech.update_ticket", ticket_id=1005, json={})
        page_from_memory()  # read again after their change: a generation exists now
        assert calls_to(dd, "/statuses") == 2
        theirs.client(HOST, token).call("tech.update_ticket", ticket_id=1005, json={})
        client.get("/tech/tickets/1005")  # their new generation: read again at once
        assert calls_to(dd, "/statuses") == 3

        page_from_memory()
        theirs.lookups.read(HOST, "tech.agents", None,  # their refresh rewrites the entry
                            lambda: [{"id": 3, "name": "Priya Shah"}])
        assert "Priya Shah" in client.get("/tech/tickets/1005").get_data(as_text=True)

        assert "Priya Shah" in page_from_memory()
        theirs.store.delete(theirs.lookups._key(HOST, "tech.agents", None, {}))  # gone there
        page = client.get("/tech/tickets/1005").get_data(as_text=True)
        assert "Sam Agent" in page and calls_to(dd, "/agents") == 4
    finally:
        other.extensions["ddsite"].close()


def test_lists_kept_in_memory_still_end_with_their_time(app, client, dd, decoded, monkeypatch):
    import time

    sign_in(client, dd, "tech")
    tech_upstream(dd)
    client.get("/tech/tickets/1005")
    age_files(session_folder(app))
    client.get("/tech/tickets/1005")
    decoded.clear()
    client.get("/tech/tickets/1005")
    assert look_ups_decoded(decoded) == [] and calls_to(dd, "/statuses") == 1
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 302)  # LOOKUP_TTL is 300 here
    assert client.get("/tech/tickets/1005").status_code == 200
    assert [calls_to(dd, p) for p in ("/statuses", "/priorities", "/agents")] == [2, 2, 2]


def test_a_contacts_lists_in_memory_are_never_shown_to_another_contact(app, dd, decoded):
    pat, kim = app.test_client(), app.test_client()
    sign_in(pat, dd)
    sign_in(kim, dd, user=OTHER_CONTACT)
    readers = iter(["Pat's hardware", "Kim's hardware"])
    dd.add_callback(responses.GET, PORTAL + "/request-types", content_type="application/json",
                    callback=lambda request: (200, {}, f'[{{"id": 1, "name": "{next(readers)}"}}]'))
    dd.add(responses.GET, PORTAL + "/priorities", json=[{"id": 3, "name": "High"}])
    pat.get("/portal/new"), kim.get("/portal/new")
    age_files(session_folder(app))
    pat.get("/portal/new"), kim.get("/portal/new")
    decoded.clear()
    for browser, own, theirs in ((pat, "Pat's", "Kim's"), (kim, "Kim's", "Pat's")) * 2:
        page = browser.get("/portal/new").get_data(as_text=True)
        assert f"{own} hardware" in page.replace("&#39;", "'")
        assert f"{theirs} hardware" not in page.replace("&#39;", "'")
    assert look_ups_decoded(decoded) == [] and calls_to(dd, "/request-types") == 2
