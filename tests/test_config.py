"""Configuration: defaults, DDSITE_* variables, clear messages for bad values."""

from __future__ import annotations

import pytest

from ddsite.config import ConfigError, load, masked, normalise_origin

GOOD = {"DDSITE_DESKDIRECTOR_HOSTS": "https://dd.example.com", "DDSITE_SECRET_KEY": "s"}


def test_environment_is_read_and_hosts_normalised():
    config = load(environ={**GOOD, "DDSITE_DESKDIRECTOR_HOSTS": "HTTPS://A.example.com/, https://b.example.com:8443",
                           "DDSITE_READ_TIMEOUT": "4.5"})
    assert config["DESKDIRECTOR_HOSTS"] == ["https://a.example.com", "https://b.example.com:8443"]
    assert config["READ_TIMEOUT"] == 4.5
    assert load(environ={**GOOD, "DDSITE_COMPRESS_MIN_SIZE": "2048"})["COMPRESS_MIN_SIZE"] == 2048


def test_overrides_win_over_environment():
    assert load({"READ_TIMEOUT": 1.0}, environ={**GOOD, "DDSITE_READ_TIMEOUT": "9"})["READ_TIMEOUT"] == 1.0


@pytest.mark.parametrize("environ, names", [
    ({"DDSITE_SECRET_KEY": "s"}, ["DDSITE_DESKDIRECTOR_HOSTS", "https://"]),
    ({**GOOD, "DDSITE_DESKDIRECTOR_HOSTS": "dd.example.com"}, ["DDSITE_DESKDIRECTOR_HOSTS", "not an origin"]),
    ({**GOOD, "DDSITE_DESKDIRECTOR_HOSTS": "https://dd.example.com/portal"}, ["not an origin"]),
    ({"DDSITE_DESKDIRECTOR_HOSTS": "https://dd.example.com"}, ["DDSITE_SECRET_KEY", "secrets.token_hex"]),
    ({**GOOD, "DDSITE_READ_TIMEOUT": "soon"}, ["DDSITE_READ_TIMEOUT", "example of a good value"]),
    ({**GOOD, "DDSITE_READ_TIMEOUT": "-1"}, ["greater than zero"]),
    ({**GOOD, "DDSITE_DEBUG": "maybe"}, ["DDSITE_DEBUG", "true or false"]),
    ({**GOOD, "DDSITE_COMPRESS_MIN_SIZE": "-1"}, ["DDSITE_COMPRESS_MIN_SIZE", "negative", "13000"]),
    ({**GOOD, "DDSITE_BRAND_COLOR": "red"}, ["DDSITE_BRAND_COLOR", "hex colour"]),
    ({**GOOD, "DDSITE_PORTAL_RETURN_URL": "https://evil.example/"}, ["DDSITE_PORTAL_RETURN_URL", "{host}"]),
    ({**GOOD, "DDSITE_JWT_PUBLIC_KEYS": "/nonexistent.pem"}, ["DDSITE_JWT_PUBLIC_KEYS"]),
    ({**GOOD, "DDSITE_TECH_TICKET_URL": "{host}/tech/{ticket}"}, ["DDSITE_TECH_TICKET_URL", "placeholders"]),
])
def test_bad_configuration_names_the_variable(environ, names):
    with pytest.raises(ConfigError) as caught:
        load(environ=environ)
    for name in names:
        assert name in str(caught.value)


def test_secret_key_not_needed_in_debug():
    load(environ={"DDSITE_DESKDIRECTOR_HOSTS": "https://dd.example.com", "DDSITE_DEBUG": "1"})


def test_masked_hides_secrets():
    shown = masked(load(environ={**GOOD, "DDSITE_REDIS_URL": "redis://:pw@r:6379/0"}))
    assert shown["SECRET_KEY"] == "********" and shown["REDIS_URL"] == "********"
    assert shown["DESKDIRECTOR_HOSTS"] == ["https://dd.example.com"]


@pytest.mark.parametrize("raw, origin", [
    ("https://X.example.com", "https://x.example.com"),
    ("https://x.example.com:443", "https://x.example.com"),
    ("http://localhost:5001/", "http://localhost:5001"),
    ("https://x.example.com/path", None),
    ("https://user@x.example.com", None),
    ("javascript:alert(1)", None),
    ("https://x.example.com:99999", None),
])
def test_normalise_origin(raw, origin):
    assert normalise_origin(raw) == origin
