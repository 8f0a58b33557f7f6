"""DDSITE_JWT_KEYS=auto: keys from the instance's key endpoint, cached, chosen by kid, refetched."""

from __future__ import annotations

import logging

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

from ddsite import create_app
from ddsite.config import ConfigError, load
from ddsite.demo import ServerThread
from ddsite.deskdirector import signing_keys
from ddsite.deskdirector.signing_keys import InstanceKeys, UnknownKey
from ddsite.sandbox import create_sandbox

from .conftest import CONTACT, HOST, ISSUED_TOKENS, LeakCheckingClient, make_token, public_key_pem

KEYS_URL = HOST + "/api/v4/auth/public-keys"
ME_URL = HOST + "/api/v2/user/client"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(key, kid: str | None) -> str:
    """make_token's token re-signed with a kid header (remembered by the leak guard)."""
    claims = jwt.decode(make_token(), options={"verify_signature": False})
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid} if kid else None)
    ISSUED_TOKENS.add(token)
    return token


def _keys_reply(*pairs, max_age: int = 600) -> dict:
    body = {"keys": [{"kid": kid, "publicKey": public_key_pem(key).decode()} for kid, key in pairs]}
    return {"json": body, "headers": {"Cache-Control": f"public, max-age={max_age}"}}


@pytest.fixture
def auto_client(config):
    config["JWT_KEYS"] = "auto"
    app = create_app(config)
    app.test_client_class = LeakCheckingClient
    yield app.test_client()
    app.extensions["ddsite"].close()


def _open(client, token: str):
    return client.get(f"/portal/?access_token={token}&host={HOST}")


def _signed_in(client, dd, token: str) -> None:
    """Open the menu item and land on the page: with the signature checked, who-am-I runs
    beside the landing page's own reads."""
    response = _open(client, token)
    assert response.status_code == 303
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets", json={"total": 0, "results": []})
    assert client.get(response.headers["Location"], follow_redirects=True).status_code == 200


def _key_calls(dd) -> int:
    return sum(call.request.url == KEYS_URL for call in dd.calls)


def test_keys_are_fetched_once_and_the_token_is_checked_against_its_kid(auto_client, dd):
    first, second = _key(), _key()
    dd.add(responses.GET, KEYS_URL, **_keys_reply(("k1", first), ("k2", second)))
    dd.add(responses.GET, ME_URL, json=CONTACT)
    _signed_in(auto_client, dd, _token(first, "k1"))
    _signed_in(auto_client, dd, _token(second, "k2"))
    assert _key_calls(dd) == 1
    assert "Authorization" not in dd.calls[0].request.headers  # the keys are public
    # a token naming k1 but signed by k2 is refused without asking who-am-I
    response = _open(auto_client, _token(second, "k1"))
    assert response.status_code == 400 and "could not be read" in response.get_data(as_text=True)
    assert sum(call.request.url == ME_URL for call in dd.calls) == 2


def test_unknown_kid_refetches_once_then_is_rate_limited(auto_client, dd):
    current, rotated = _key(), _key()
    dd.add(responses.GET, KEYS_URL, **_keys_reply(("old", current)))
    dd.add(responses.GET, KEYS_URL, **_keys_reply(("new", rotated), ("old", current)))
    dd.add(responses.GET, ME_URL, json=CONTACT)
    _signed_in(auto_client, dd, _token(current, "old"))
    # the instance rotated: the unknown kid sends ddsite back to the key endpoint once
    _signed_in(auto_client, dd, _token(rotated, "new"))
    assert _key_calls(dd) == 2
    # forged kids do not turn into a stream of key requests
    for _ in range(3):
        response = _open(auto_client, _token(_key(), "forged"))
        assert response.status_code == 400
    assert _key_calls(dd) == 2


def test_missing_key_endpoint_falls_back_to_who_am_i(auto_client, dd, caplog):
    dd.add(responses.GET, KEYS_URL, status=404, json={"errorCode": "NotFound"})
    dd.add(responses.GET, ME_URL, json=CONTACT)
    dd.add(responses.GET, ME_URL, status=401, json={"errorCode": "Unauthorized"})
    assert _open(auto_client, _token(_key(), "any")).status_code == 303
    # a token DeskDirector does not accept still goes nowhere: who-am-I refuses it
    assert _open(auto_client, _token(_key(), "other")).status_code == 401
    assert _key_calls(dd) == 1  # the missing endpoint is not asked on every sign-in
    assert any("who-am-I call only" in r.getMessage() for r in caplog.records
               if r.levelno == logging.WARNING)


def test_unreachable_key_endpoint_falls_back_and_is_asked_again_later(config, dd):
    clock = [0.0]
    fetches = []

    def fetch():
        fetches.append(clock[0])
        if len(fetches) == 1:
            raise requests.ConnectionError()
        return requests.get(KEYS_URL, timeout=1)

    key = _key()
    dd.add(responses.GET, KEYS_URL, **_keys_reply(("k", key)))
    keys = InstanceKeys(fetch, clock=lambda: clock[0])
    assert keys.keys_for("k") == []  # nothing to check against yet: who-am-I proves the token
    clock[0] = signing_keys.REFETCH_INTERVAL + 1
    [found] = keys.keys_for("k")
    assert found.public_numbers() == key.public_key().public_numbers()
    assert fetches == [0.0, signing_keys.REFETCH_INTERVAL + 1]


@pytest.mark.parametrize(("headers", "kept_for"), [
    ({"Cache-Control": "public, max-age=120"}, 120),
    ({"Cache-Control": "no-store"}, 0),
    ({"Expires": "Sat, 28 Nov 2026 10:05:00 GMT", "Date": "Sat, 28 Nov 2026 10:00:00 GMT"}, 300),
    ({}, signing_keys.DEFAULT_MAX_AGE),
])
def test_the_key_list_is_kept_as_its_cache_header_says(dd, headers, kept_for):
    key = _key()
    dd.add(responses.GET, KEYS_URL, json=[{"keyId": "k", "pem": public_key_pem(key).decode()}],
           headers=headers)
    clock = [0.0]
    fetches = []

    def fetch():
        fetches.append(clock[0])
        return requests.get(KEYS_URL, timeout=1)

    keys = InstanceKeys(fetch, clock=lambda: clock[0])
    keys.keys_for("k")
    clock[0] = kept_for - 0.5 if kept_for else 0.5
    keys.keys_for("k")
    assert len(fetches) == (2 if kept_for == 0 else 1)
    clock[0] = kept_for + 1
    keys.keys_for("k")
    assert len(fetches) == (3 if kept_for == 0 else 2)


@pytest.mark.parametrize("body", [
    lambda pem: {"results": [{"id": "k", "key": pem}]},
    lambda pem: {"k": pem},
    lambda pem: [{"kid": "k", "publicKey": pem}, {"kid": "junk", "publicKey": "not a key"}],
])
def test_key_list_shapes_are_recognised(dd, body):
    key = _key()
    dd.add(responses.GET, KEYS_URL, json=body(public_key_pem(key).decode()))
    keys = signing_keys.parse_key_list(requests.get(KEYS_URL, timeout=1))
    assert list(keys.keys) == ["k"]
    with pytest.raises(UnknownKey):
        InstanceKeys(lambda: requests.get(KEYS_URL, timeout=1)).keys_for("missing")


def test_sandbox_rotation_end_to_end(config):
    """The real sandbox rotates its key; ddsite (auto) accepts tokens of both keys, not forged."""
    sandbox = create_sandbox()
    server = ServerThread("localhost", 0, sandbox).start()
    url = f"http://localhost:{server.port}"
    config.update(DESKDIRECTOR_HOSTS=[url], JWT_KEYS="auto")
    app = create_app(config)
    app.test_client_class = LeakCheckingClient
    tokens = sandbox.extensions["sandbox"]["tokens"]
    try:
        client = app.test_client()

        def open_with(token):
            ISSUED_TOKENS.add(token)
            return client.get(f"/portal/?access_token={token}&host={url}")

        before = tokens.mint("c", 101)
        assert open_with(before).status_code == 303
        sandbox.test_client().post("/sandbox/keys/rotate")
        assert open_with(tokens.mint("c", 101)).status_code == 303
        assert open_with(before).status_code == 303  # the old key is still listed
        forged = jwt.encode({"sub": "acme~c~101", "exp": 9999999999}, _key(), algorithm="RS256",
                            headers={"kid": tokens.key_id})
        assert open_with(forged).status_code == 400
    finally:
        server.stop()
        app.extensions["ddsite"].close()


def test_jwt_keys_setting_is_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("DDSITE_DESKDIRECTOR_HOSTS", HOST)
    monkeypatch.setenv("DDSITE_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DDSITE_JWT_KEYS", "sometimes")
    with pytest.raises(ConfigError, match="DDSITE_JWT_KEYS: 'sometimes' is not a key source"):
        load()
    pem = tmp_path / "keys.pem"
    pem.write_bytes(public_key_pem(_key()))
    monkeypatch.setenv("DDSITE_JWT_KEYS", "auto")
    monkeypatch.setenv("DDSITE_JWT_PUBLIC_KEYS", str(pem))
    with pytest.raises(ConfigError, match="set one of them"):
        load()
