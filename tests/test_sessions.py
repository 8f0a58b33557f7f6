"""Server-side sessions: cookie attributes, the URL-handle fallback, nothing readable client-side."""

from __future__ import annotations

import re
import time

import pytest
import responses

from .conftest import CONTACT, HOST, age_files, expect_home, make_token, sign_in


def _intake(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    response = client.get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert response.status_code == 303
    return response


def test_cookie_is_httponly_secure_samesite_none_partitioned(client, dd):
    response = _intake(client, dd)
    cookie = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/"):
        assert attribute in cookie


def test_cookie_holds_only_an_opaque_handle(client, dd):
    token = sign_in(client, dd)
    handle = client.get_cookie("ddsite_session").value
    assert token not in handle and "." not in handle and len(handle) >= 40


def test_partitioned_can_be_switched_off(config, dd):
    from ddsite import create_app

    config["SESSION_COOKIE_PARTITIONED"] = False
    client = create_app(config).test_client()
    response = _intake(client, dd)
    assert "Partitioned" not in response.headers["Set-Cookie"]


def test_without_cookies_the_handle_travels_in_the_url(app, dd):
    cookieless = app.test_client(use_cookies=False)
    response = _intake(cookieless, dd)
    location = response.headers["Location"]
    assert "ddsid=" in location
    expect_home(dd)
    page = cookieless.get(location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Pat Lee" in text
    handle = location.split("ddsid=")[1]
    # every ddsite link on the page carries the handle; static files and brand.css do not need it
    assert f'href="/portal/new?ddsid={handle}"' in text
    assert re.search(r'href="/brand.css\?v=\w+"', text)
    assert re.search(r'href="/static/ddsite.css\?v=\w+"', text)
    # and it keeps working on later requests
    assert cookieless.get(f"/portal/?ddsid={handle}").status_code == 200
    assert "Set-Cookie" not in cookieless.get(f"/portal/?ddsid={handle}").headers


def test_url_handle_of_a_cookie_session_is_not_accepted(client, app, dd):
    sign_in(client, dd)
    handle = client.get_cookie("ddsite_session").value
    other_browser = app.test_client(use_cookies=False)
    assert other_browser.get(f"/portal/?ddsid={handle}").status_code == 400


def test_unknown_handle_is_no_session(client):
    client.set_cookie("ddsite_session", "made-up")
    assert client.get("/portal/").status_code == 400


def test_redis_store_is_used_when_configured(config, redis_url, dd):
    from cachelib import RedisCache

    from ddsite import create_app

    config["REDIS_URL"] = redis_url
    workers = [create_app(config), create_app(config)]
    try:
        assert isinstance(workers[0].extensions["ddsite"].store, RedisCache)
        first = workers[0].test_client()
        sign_in(first, dd)
        # a second worker (another app object) on the same Redis sees the same session
        second = workers[1].test_client()
        second.set_cookie("ddsite_session", first.get_cookie("ddsite_session").value)
        expect_home(dd)
        assert "Pat Lee" in second.get("/portal/").get_data(as_text=True)
    finally:
        for worker in workers:
            worker.extensions["ddsite"].close()


def _store_files(folder, *, discarded: bool = False) -> list[str]:
    """The store's files; those of deleted entries, which wait for the sweep, only if asked."""
    import os

    from ddsite.sessions import DISCARDED_SUFFIX

    return [os.path.join(root, name) for root, _, names in os.walk(folder) for name in names
            if discarded or not name.endswith(DISCARDED_SUFFIX)]


def test_file_store_reads_what_cachelib_reads_and_nothing_it_cannot(tmp_path, caplog):
    # FileStore reads entries with plain system calls; its answers must be cachelib's own.
    from cachelib import FileSystemCache

    from ddsite.sessions import FileStore

    folder = str(tmp_path / "store")
    ours, theirs = FileStore(folder, threshold=0), FileSystemCache(folder, threshold=0)
    value = {"host": HOST, "token": "t" * 700, "user": {"id": 7, "name": "Ann"}, "exp": 1.5}
    theirs.set("live", value, timeout=3600)
    theirs.set("forever", [1, 2, 3], timeout=0)
    theirs.set("big", "x" * 200_000, timeout=3600)  # more than one read's worth
    theirs.set("expired", "old", timeout=3600)
    with open(theirs._get_filename("expired"), "r+b") as entry:
        entry.write((int(time.time()) - 5).to_bytes(4, "little"))  # ended five seconds ago
    for name, content in (("truncated", b"\0\0\0\0\x80\x05\x95"), ("short", b"\1"),
                          ("garbage", b"\0\0\0\0not a pickle")):
        with open(theirs._get_filename(name), "wb") as entry:
            entry.write(content)
    for key in ("live", "forever", "big", "expired", "missing", "truncated", "short", "garbage"):
        assert ours.get(key) == theirs.get(key), key
    assert ours.get("live") == value and ours.get("big") == "x" * 200_000
    assert ours.get("expired") is None and ours.get("missing") is None
    assert ours.get("garbage") is None
    assert any("Could not read store entry" in r.getMessage() for r in caplog.records)


def test_file_store_writes_what_cachelib_writes(tmp_path, caplog):
    # FileStore writes entries with plain system calls; cachelib must read them as its own, with
    # the same expiry, the same mode, and nothing left beside them.
    import os
    import shutil
    import stat

    from cachelib import FileSystemCache

    from ddsite.sessions import FileStore

    folder = str(tmp_path / "store")
    ours = FileStore(folder, threshold=0, mode=0o600)
    theirs, reference = FileSystemCache(folder, threshold=0), FileSystemCache(str(tmp_path / "ref"))
    value = {"host": HOST, "token": "t" * 700, "user": {"id": 7, "name": "Ann"}, "exp": 1.5}
    for key, stored, timeout in (("live", value, 3600), ("forever", [1, 2], 0),
                                 ("big", "x" * 200_000, 3600), ("live", "replaced", 60)):
        assert ours.set(key, stored, timeout=timeout)
        reference.set(key, stored, timeout=timeout)
        assert theirs.get(key) == stored
        with open(ours._get_filename(key), "rb") as mine, \
                open(reference._get_filename(key), "rb") as cachelibs:
            mine, cachelibs = mine.read(), cachelibs.read()
        assert mine[4:] == cachelibs[4:]  # the same pickle
        assert abs(int.from_bytes(mine[:4], "little") - int.from_bytes(cachelibs[:4], "little")) <= 1
    assert sorted(os.listdir(folder)) == sorted(ours._get_filename(k).rsplit("/", 1)[1]
                                                for k in ("live", "forever", "big"))
    assert stat.S_IMODE(os.stat(ours._get_filename("live")).st_mode) == 0o600
    shutil.rmtree(folder)  # a store that cannot be written: False and a warning, as cachelib
    assert ours.set("another", 1, timeout=60) is False
    assert theirs.set("another", 1, timeout=60) is False
    assert any("Could not write store entry" in r.getMessage() for r in caplog.records)


def test_file_store_write_refused_for_a_moment_is_retried_as_cachelib_does(tmp_path, monkeypatch):
    # Some network file systems refuse a rename while another process reads the file.
    import os

    from ddsite.sessions import FileStore

    store = FileStore(str(tmp_path / "store"), threshold=0)
    replace, refusals = os.replace, []

    def busy_once(source, target):
        if not refusals:
            refusals.append(target)
            raise PermissionError("file busy")
        return replace(source, target)

    monkeypatch.setattr(os, "replace", busy_once)
    assert store.set("session:x", {"token": "t"}, timeout=60)
    assert refusals and store.get("session:x") == {"token": "t"}
    # the entry alone: no temporary file left behind
    assert os.listdir(tmp_path / "store") == [os.path.basename(store._get_filename("session:x"))]


def test_file_store_deletes_at_once_and_the_sweep_removes_the_file(tmp_path):
    # A delete renames the entry away (cheap), so no reader finds it from then on; the Sweeper
    # removes the file later, whatever expiry it held, and does not count it as expired.
    import os

    from cachelib import FileSystemCache

    from ddsite.sessions import FileStore, Sweeper

    folder = str(tmp_path / "store")
    ours, theirs = FileStore(folder, threshold=0), FileSystemCache(folder, threshold=0)
    ours.set("old", {"token": "t"}, timeout=3600)
    ours.set("kept", {"token": "k"}, timeout=3600)
    assert ours.delete("old") and ours.delete("old") and ours.delete("never there")
    assert ours.get("old") is None and theirs.get("old") is None and not theirs.has("old")
    assert len(os.listdir(folder)) == 2  # "kept", and "old" waiting for the sweep
    assert Sweeper(folder, str(tmp_path / "once"), 60, 600).sweep() == 0
    assert os.listdir(folder) == [os.path.basename(ours._get_filename("kept"))]
    assert ours.get("kept") == {"token": "k"}


def test_file_store_sweep_deletes_every_expired_thing_and_keeps_the_live(config, dd):
    import time

    from ddsite import create_app

    from .conftest import send_reply

    config.update(ENDED_SESSION_KEPT=60, ONCE_LIFETIME=120, DRAFT_LIFETIME=300)
    app = create_app(config)
    sent, refused, live = app.test_client(), app.test_client(), app.test_client()
    sign_in(sent, dd, expires_in=30)
    assert send_reply(sent, dd).status_code == 303          # a session, a once key, an outcome
    sign_in(refused, dd, expires_in=30)
    kept = send_reply(refused, dd, "keep me", answer=401)    # DeskDirector refuses: a draft
    assert kept.status_code == 401 and "kept" in kept.text
    sign_in(live, dd, expires_in=3600)
    # each send also claimed its attempt and recorded its outcome (the refused one too), and the
    # sent reply left a marker that asks before the same text goes again within ten minutes
    assert len(_store_files(config["SESSION_DIR"])) == 9

    state = app.extensions["ddsite"]
    removed = state.sweeper.sweep(now=time.time() + 400)   # every short lifetime is over by then
    assert removed == 7
    # the live session, the repeat marker; deleted entries' files went too
    assert len(_store_files(config["SESSION_DIR"], discarded=True)) == 2
    expect_home(dd)
    assert "Pat Lee" in live.get("/portal/").text
    assert b"ddsite_store_swept_total 7.0" in state.metrics.exposition()


def test_sweep_starts_by_itself_on_a_request_once_due(config):
    import threading

    from ddsite import create_app

    config["SWEEP_INTERVAL"] = 0.001
    app = create_app(config)
    store = app.extensions["ddsite"].store
    store.set("long-gone", 1, timeout=-10)  # expired ten seconds ago, never read again
    store.set("still-live", 1, timeout=600)
    assert len(_store_files(config["SESSION_DIR"])) == 2
    app.test_client().get("/portal/")
    for thread in threading.enumerate():
        if thread.name == "ddsite-sweep":
            thread.join(timeout=10)
    assert len(_store_files(config["SESSION_DIR"])) == 1 and store.get("still-live") == 1


def test_everything_in_redis_has_a_lifetime(config, redis_url, dd):
    import redis

    from ddsite import create_app

    from .conftest import send_reply

    config.update(REDIS_URL=redis_url, ENDED_SESSION_KEPT=60)
    app = create_app(config)
    client, refused = app.test_client(), app.test_client()
    try:
        sign_in(client, dd, expires_in=600)
        assert send_reply(client, dd).status_code == 303
        sign_in(refused, dd, expires_in=600)
        assert send_reply(refused, dd, "keep me", answer=401).status_code == 401
        server = redis.Redis.from_url(redis_url)
        handle = client.get_cookie("ddsite_session").value
        kinds = set()
        for key in server.scan_iter("ddsite:*"):
            name = key.decode()
            kinds.add(name.split(":")[1])
            assert server.ttl(key) != -1, f"{name} never expires"  # 0 in its last second, -2 gone
        assert {"session", "claim", "outcome", "draft"} <= kinds
        assert 600 < server.ttl(f"ddsite:session:{handle}") <= 660
        server.close()
    finally:
        app.extensions["ddsite"].close()


# ---- a handle in a link never signs a browser in as someone else (fixation) -----------------
IFRAME = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"}


def _kept_redirect(client, dd, headers=None) -> str:
    """Intake as a contact who does not follow the 303 and keeps its Location."""
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    response = client.get(f"/portal/?access_token={make_token()}&host={HOST}", headers=headers or {})
    assert response.status_code == 303
    return response.headers["Location"]


def test_pending_handle_in_a_link_does_not_sign_in_another_browser(client, app, dd):
    location = _kept_redirect(client, dd, IFRAME)
    victim = app.test_client(use_cookies=False)
    # opened from a mail or a chat: a top-level navigation, as the browser says
    page = victim.get(location, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "document",
                                         "Sec-Fetch-Mode": "navigate", "Sec-Fetch-User": "?1"})
    assert page.status_code == 400
    assert "Pat Lee" not in page.get_data(as_text=True)


def test_pending_handle_from_another_address_is_not_accepted(client, app, dd):
    location = _kept_redirect(client, dd)
    elsewhere = app.test_client(use_cookies=False)
    page = elsewhere.get(location, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert page.status_code == 400 and "Pat Lee" not in page.get_data(as_text=True)


def test_pending_handle_settles_in_the_navigation_that_follows_intake(app, dd):
    expect_home(dd)  # the contact home lists tickets
    browser = app.test_client(use_cookies=False)
    location = _kept_redirect(browser, dd, IFRAME)
    page = browser.get(location, headers=IFRAME)
    assert page.status_code == 200 and "Pat Lee" in page.get_data(as_text=True)


def test_pending_handle_is_dead_after_a_few_seconds(app, dd, monkeypatch):
    from ddsite import sessions

    browser = app.test_client(use_cookies=False)
    location = _kept_redirect(browser, dd)
    later = time.time() + sessions.SETTLE_SECONDS + 1
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert browser.get(location).status_code == 400


def test_pending_handle_settles_once_even_when_two_requests_race(app, dd):
    assert _signed_in_by_two_racing_opens(app, dd) == [True, False]


def test_settled_url_handle_counts_only_from_our_own_pages(app, dd):
    expect_home(dd)  # the contact home lists tickets
    browser = app.test_client(use_cookies=False)
    location = _kept_redirect(browser, dd, IFRAME)
    assert browser.get(location, headers=IFRAME).status_code == 200
    inside = browser.get(location, headers={**IFRAME, "Sec-Fetch-Site": "same-origin"})
    assert inside.status_code == 200
    shared = app.test_client(use_cookies=False).get(location, headers={**IFRAME, "Sec-Fetch-Dest": "document"})
    assert shared.status_code == 400 and "Pat Lee" not in shared.get_data(as_text=True)


def test_settled_url_handle_works_only_in_the_browser_that_settled_it(app, dd):
    expect_home(dd)  # the contact home lists tickets
    browser = app.test_client(use_cookies=False)
    location = _kept_redirect(browser, dd)
    assert browser.get(location).status_code == 200
    assert browser.get(location).status_code == 200  # a browser that sends no Sec-Fetch-* headers
    other = app.test_client(use_cookies=False)
    assert other.get(location, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 400
    assert other.get(location, headers={"User-Agent": "Other/1.0"}).status_code == 400


def test_claims_on_the_filesystem_end_at_their_own_time_and_the_sweep_removes_them(app):
    import os

    from ddsite.sessions import claim_once, claims_folder

    store, folder = app.session_interface.store, claims_folder(app)
    sweeper = app.extensions["ddsite"].sweeper
    assert claim_once(store, folder, "settle:a", 30)
    assert not claim_once(store, folder, "settle:a", 30)
    assert claim_once(store, folder, "refresh:b", 0)  # a claim of no length ends at once
    assert claim_once(store, folder, "refresh:b", 0)  # and is taken again
    assert claim_once(store, folder, "settle:c", 30)
    assert sweeper.sweep() == 1 and len(os.listdir(folder)) == 2  # b's ended; a and c hold
    # A claim file left by an older ddsite holds no end time: it lasts a minute from when made.
    legacy, recent = os.path.join(folder, "0" * 64), os.path.join(folder, "1" * 64)
    for path, age in ((legacy, 61), (recent, 10)):
        open(path, "wb").close()
        os.utime(path, (time.time() - age, time.time() - age))
    assert sweeper.sweep() == 1
    assert not os.path.exists(legacy) and os.path.exists(recent) and len(os.listdir(folder)) == 3
    assert sweeper.sweep(now=time.time() + 61) == 3 and os.listdir(folder) == []


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_a_short_claim_never_ends_a_longer_one(config, kind, request):
    # A send-once attempt holds its claim for a day; a look-up refresh claims for seconds. A
    # refresh claimed later, and the sweeps after it, must not free the send to a second sender.
    import os

    from ddsite import create_app
    from ddsite.sessions import claim_once, claims_folder

    if kind == "redis":
        config["REDIS_URL"] = request.getfixturevalue("redis_url")
    app = create_app(config)
    try:
        state = app.extensions["ddsite"]
        store, folder = state.store, claims_folder(app)
        assert claim_once(store, folder, "send:1", 24 * 3600)
        if kind == "file":  # the send was claimed five seconds ago
            for entry in os.scandir(folder):
                os.utime(entry.path, (time.time() - 5, time.time() - 5))
        assert claim_once(store, folder, "refresh:x", 1)
        if state.sweeper:
            state.sweeper.sweep(now=time.time() + 2)  # the refresh's claim has ended
        assert not claim_once(store, folder, "send:1", 24 * 3600)
    finally:
        state.close()


def test_pending_handle_settles_once_with_the_redis_store(config, redis_url, dd):
    from ddsite import create_app

    config["REDIS_URL"] = redis_url
    app = create_app(config)
    try:
        assert _signed_in_by_two_racing_opens(app, dd) == [True, False]
    finally:
        app.extensions["ddsite"].close()


def _signed_in_by_two_racing_opens(app, dd) -> list[bool]:
    """Open a kept handle twice, both reads before either save; which of them got the user."""
    from werkzeug.test import EnvironBuilder

    browser = app.test_client(use_cookies=False)
    location = _kept_redirect(browser, dd)
    requests_ = [app.request_class(EnvironBuilder(location, environ_base=browser.environ_base).get_environ())
                 for _ in range(2)]
    opened = [app.session_interface.open_session(app, request) for request in requests_]
    return [bool(s.get("user")) for s in opened]


@pytest.mark.parametrize("size", [0, 1, 700, 65535, 65536, 65537, 2 * 65536, 200_000])
def test_a_store_entry_is_read_whole_whatever_its_size(tmp_path, size):
    # Short entries take one read; one that fills the first read exactly must still be read on.
    import os

    from ddsite.sessions import _read_all

    content = os.urandom(size)
    entry = tmp_path / "entry"
    entry.write_bytes(content)
    handle = os.open(entry, os.O_RDONLY)
    try:
        assert _read_all(handle) == content
    finally:
        os.close(handle)


# ---- entries shared, read-only, while their file is unchanged (the look-up caches' reads) --------
def _two_workers(tmp_path):
    """Two file stores on one folder, as two workers (or machines) have them."""
    from ddsite.sessions import FileStore

    folder = str(tmp_path / "store")
    return FileStore(folder, threshold=0), FileStore(folder, threshold=0)


def test_a_shared_read_decodes_an_unchanged_entry_once_and_plain_reads_stay_fresh(tmp_path, decoded):
    ours, _theirs = _two_workers(tmp_path)
    ours.set("lookup:statuses", (1.5, [{"id": 1, "name": "New"}]), timeout=300)
    age_files(ours._path)
    first = ours.get_shared("lookup:statuses")
    assert [ours.get_shared("lookup:statuses") is first for _ in range(3)] == [True] * 3
    assert len(decoded) == 1  # decoded once; then a stat each time
    fresh = ours.get("lookup:statuses")  # sessions, drafts: a copy of their own, every time
    assert fresh == first and fresh is not first and len(decoded) == 2
    fresh[1].append("changed by its reader")
    assert ours.get_shared("lookup:statuses") == (1.5, [{"id": 1, "name": "New"}])


def test_another_workers_rewrite_of_the_same_size_is_seen_on_the_next_shared_read(tmp_path, decoded):
    ours, theirs = _two_workers(tmp_path)
    ours.set("lookup:generation:x", "aaaa1111", timeout=600)
    age_files(ours._path)
    assert ours.get_shared("lookup:generation:x") == "aaaa1111"
    assert ours.get_shared("lookup:generation:x") == "aaaa1111" and len(decoded) == 1
    import os

    filename = ours._get_filename("lookup:generation:x")
    dated = os.stat(filename).st_mtime_ns
    theirs.set("lookup:generation:x", "bbbb2222", timeout=600)  # same size, a new file
    os.utime(filename, ns=(dated, dated))  # even dated to the same nanosecond: another inode
    assert ours.get_shared("lookup:generation:x") == "bbbb2222"


def test_another_workers_delete_is_seen_on_the_next_shared_read_and_drops_the_copy(tmp_path):
    ours, theirs = _two_workers(tmp_path)
    ours.set("lookup:agents", (1.5, ["Sam"]), timeout=300)
    age_files(ours._path)
    assert ours.get_shared("lookup:agents") == (1.5, ["Sam"]) and len(ours._shared) == 1
    theirs.delete("lookup:agents")
    assert ours.get_shared("lookup:agents") is None and len(ours._shared) == 0


def test_a_shared_entry_that_expires_is_gone_though_its_file_is_unchanged(tmp_path, monkeypatch):
    ours, _theirs = _two_workers(tmp_path)
    ours.set("lookup:agents", (1.5, ["Sam"]), timeout=120)
    age_files(ours._path)
    assert ours.get_shared("lookup:agents") == (1.5, ["Sam"]) and len(ours._shared) == 1
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 121)
    assert ours.get_shared("lookup:agents") is None and ours.get("lookup:agents") is None
    assert len(ours._shared) == 0


def test_an_entry_written_just_now_is_read_from_its_file_until_it_is_a_while_old(tmp_path, decoded):
    # A just-freed inode may be reused by the next write within the same clock tick: a stat of
    # a file that new is not trusted to tell two versions apart.
    ours, _theirs = _two_workers(tmp_path)
    ours.set("lookup:agents", (1.5, ["Sam"]), timeout=300)
    for _ in range(3):
        assert ours.get_shared("lookup:agents") == (1.5, ["Sam"])
    assert len(decoded) == 3 and len(ours._shared) == 0
    age_files(ours._path)
    ours.get_shared("lookup:agents"), ours.get_shared("lookup:agents")
    assert len(decoded) == 4 and len(ours._shared) == 1


def test_shared_entries_stay_within_their_count_and_size(tmp_path):
    import os

    from ddsite.shared_entries import SharedEntries

    ours, _theirs = _two_workers(tmp_path)
    ours._shared = SharedEntries(max_entries=4, max_bytes=10_000, max_entry_bytes=3_000)
    keys = [f"lookup:portal.priorities:contact-{n}" for n in range(10)]
    for key in keys:
        ours.set(key, (1.5, [key]), timeout=300)
    ours.set("lookup:big", (1.5, ["x" * 4_000]), timeout=300)
    ours.set("lookup:mid", (1.5, ["x" * 2_800]), timeout=300)
    age_files(ours._path)
    for key in keys:
        assert ours.get_shared(key) == (1.5, [key])  # each user's own, never another's
        assert len(ours._shared) <= 4
    assert ours.get_shared(keys[6]) == (1.5, [keys[6]])  # the most recently read stay
    ours.get_shared("lookup:big")  # larger than one entry may be: read, never kept
    assert len(ours._shared) == 4 and "lookup:big" not in ours._shared._entries
    ours.get_shared("lookup:mid"), ours.get_shared(keys[7])
    kept = list(ours._shared._entries)
    assert kept[-2:] == ["lookup:mid", keys[7]] and keys[6] in kept and ours._shared.size <= 10_000
    assert ours._shared.size == sum(os.path.getsize(ours._get_filename(k)) for k in kept)


def test_shared_reads_under_threads_see_only_whole_versions_and_end_on_the_last(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    ours, theirs = _two_workers(tmp_path)
    versions = [(float(n), [f"version {n}"]) for n in range(40)]
    theirs.set("lookup:statuses", versions[0], timeout=300)
    age_files(theirs._path)

    def read(_):
        return ours.get_shared("lookup:statuses")

    with ThreadPoolExecutor(8) as pool:
        reads = pool.map(read, range(4000))
        for version in versions[1:]:
            theirs.set("lookup:statuses", version, timeout=300)
            age_files(theirs._path)
        seen = list(reads)
    assert all(value in versions for value in seen)
    assert ours.get_shared("lookup:statuses") == versions[-1]
