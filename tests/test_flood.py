"""Flood control: sign-ins and refused sign-ins, per client address and per instance."""

from __future__ import annotations

import threading
import time

import pytest
import responses
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ddsite import create_app
from ddsite.config import ConfigError
from ddsite.flood import InlineExpiryMemoryStorage

from .conftest import CONTACT, HOST, LeakCheckingClient, make_token

ME = HOST + "/api/v2/user/client"


def _site(config):
    app = create_app(config)
    app.test_client_class = LeakCheckingClient
    return app.test_client()


def _open(client, address: str = "203.0.113.5"):
    return client.get(f"/portal/?access_token={make_token()}&host={HOST}",
                      environ_base={"REMOTE_ADDR": address})


def _assert_try_again(response, words: str) -> None:
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    text = response.get_data(as_text=True)
    assert words in text and "Try again in" in text and "UTC" in text


ACCEPTED = {"json": CONTACT}
REFUSED = {"status": 401, "json": {"errorCode": "Unauthorized"}}


@pytest.mark.parametrize("setting, answer, status, per_address, words", [
    ("INTAKE_LIMIT_PER_CLIENT", ACCEPTED, 303, False, "too many sign-ins from your network address"),
    ("INTAKE_LIMIT_PER_INSTANCE", ACCEPTED, 303, True, "too many sign-ins to this DeskDirector instance"),
    ("FAILED_SIGN_IN_LIMIT_PER_CLIENT", REFUSED, 401, False, "from your network address were refused"),
    ("FAILED_SIGN_IN_LIMIT_PER_INSTANCE", REFUSED, 401, True, "for this DeskDirector instance were refused"),
])
def test_sign_ins_over_the_limit_never_reach_deskdirector(config, dd, setting, answer, status,
                                                          per_address, words):
    config[setting] = "2/minute"
    client = _site(config)
    for number in range(2):  # per instance: each from another address
        dd.add(responses.GET, ME, **answer)
        assert _open(client, f"203.0.113.{number if per_address else 0}").status_code == status
    _assert_try_again(_open(client, f"203.0.113.{99 if per_address else 0}"), words)
    assert len(dd.calls) == 2  # the third never reached DeskDirector
    if not per_address:
        dd.add(responses.GET, ME, json=CONTACT)
        assert _open(client, "198.51.100.6").status_code == 303  # another address is not held up


def test_successful_sign_ins_do_not_count_as_refused(config, dd):
    config["FAILED_SIGN_IN_LIMIT_PER_CLIENT"] = "1/minute"
    client = _site(config)
    for _ in range(3):
        dd.add(responses.GET, ME, json=CONTACT)
        assert _open(client).status_code == 303


def test_counts_are_shared_through_redis_by_every_worker(config, redis_url, dd):
    config.update(REDIS_URL=redis_url, INTAKE_LIMIT_PER_CLIENT="2/minute")
    workers = [create_app(config), create_app(config)]
    try:
        address = "192.0.2.10"  # the Redis server is new for each run of the suite
        for worker in workers:
            worker.test_client_class = LeakCheckingClient
            dd.add(responses.GET, ME, json=CONTACT)
            assert _open(worker.test_client(), address).status_code == 303
        _assert_try_again(_open(workers[0].test_client(), address), "from your network address")
    finally:
        for worker in workers:
            worker.extensions["ddsite"].close()


@pytest.mark.parametrize("value", ["lots", "0/minute", "10/fortnight", ""])
def test_a_bad_limit_setting_is_named_with_an_example(config, value):
    config["INTAKE_LIMIT_PER_CLIENT"] = value
    with pytest.raises(ConfigError, match="DDSITE_INTAKE_LIMIT_PER_CLIENT.*60/minute"):
        create_app(config)


def _both_limiters():
    return MovingWindowRateLimiter(MemoryStorage()), MovingWindowRateLimiter(InlineExpiryMemoryStorage())


def test_the_memory_storage_counts_as_limits_own_does():
    stock, ours = _both_limiters()
    item = parse("3/minute")
    for attempt in range(6):
        for address in ("192.0.2.1", "192.0.2.2"):
            if attempt % 2 == 0 or address.endswith("1"):
                assert ours.test(item, "intake", address) == stock.test(item, "intake", address)
                assert ours.hit(item, "intake", address) == stock.hit(item, "intake", address)
            got, want = (limiter.get_window_stats(item, "intake", address) for limiter in (ours, stock))
            assert got.remaining == want.remaining
            assert abs(got.reset_time - want.reset_time) < 1
    assert not ours.hit(item, "intake", "192.0.2.1") and ours.hit(parse("4/minute"), "intake", "192.0.2.1")


def test_the_memory_storage_starts_no_thread_per_sign_in(monkeypatch):
    limiter = MovingWindowRateLimiter(InlineExpiryMemoryStorage())
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    for number in range(20):
        assert limiter.hit(parse("100/minute"), "intake", f"192.0.2.{number}")
    assert started == []


def test_the_memory_storage_forgets_expired_entries_and_clients_who_stopped():
    storage = InlineExpiryMemoryStorage(sweep_every=0)  # every hit also sweeps
    assert storage.acquire_entry("intake/192.0.2.1", 1, 0)  # a window of no length
    assert storage.acquire_entry("intake/192.0.2.1", 1, 0)  # the first entry had expired
    assert len(storage.events["intake/192.0.2.1"]) == 1
    assert storage.acquire_entry("intake/192.0.2.2", 1, 60)
    assert "intake/192.0.2.1" not in storage.events and "intake/192.0.2.1" not in storage.locks
    assert not storage.acquire_entry("intake/192.0.2.2", 1, 60)
    storage.sweep(time.time() + 61)
    assert storage.events == {} and "intake/192.0.2.2" not in storage.locks
