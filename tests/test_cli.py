"""The `ddsite` command: check, configuration errors, and the demo starting and stopping."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys

import pytest
import requests
import responses

from ddsite.cli import check, main

HOSTS = "https://dd.example.com,https://down.example.com"


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("DDSITE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DDSITE_DESKDIRECTOR_HOSTS", HOSTS)
    monkeypatch.setenv("DDSITE_SECRET_KEY", "super-secret-value")
    monkeypatch.setenv("DDSITE_SESSION_DIR", str(tmp_path / "sessions"))
    return monkeypatch


def test_check_prints_masked_configuration_and_which_hosts_answer(environment, dd):
    dd.add(responses.GET, "https://dd.example.com/", status=200)
    dd.add(responses.GET, "https://down.example.com/", body=requests.ConnectionError())
    out = io.StringIO()
    assert check(out) == 1
    text = out.getvalue()
    assert "SECRET_KEY = ********" in text and "super-secret-value" not in text
    assert "https://dd.example.com: answers (HTTP 200)" in text
    assert "https://down.example.com: does not answer (ConnectionError)" in text


def test_bad_configuration_stops_with_a_message_naming_the_variable(environment, capsys):
    environment.setenv("DDSITE_DESKDIRECTOR_HOSTS", "support.example.com")
    assert main(["check"]) == 2
    error = capsys.readouterr().err
    assert "DDSITE_DESKDIRECTOR_HOSTS" in error and "example of a good value" in error
    assert "Traceback" not in error


def test_missing_secret_key_is_named(environment, capsys):
    environment.delenv("DDSITE_SECRET_KEY")
    assert main(["check"]) == 2
    assert "DDSITE_SECRET_KEY: is required" in capsys.readouterr().err


@pytest.mark.parametrize("dialect", ["v2", "v4"])
def test_demo_starts_both_servers_and_stops_cleanly(dialect):
    options = ["--dialect", dialect] if dialect == "v4" else []
    process = subprocess.Popen([sys.executable, "-m", "ddsite.cli", "demo", "--token-ttl", "30",
                                *options],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith(f"ddsite demo is running (DeskDirector API dialect {dialect})")
        address = re.search(r"Open (http://localhost:\d+)/", process.stdout.readline()).group(1)
        site = re.search(r"the site at (http://127\.0\.0\.1:\d+)", process.stdout.readline()).group(1)
        shell = requests.get(f"{address}/portal/", timeout=5)
        assert shell.status_code == 200 and f'src="{site}/portal/?access_token=' in shell.text
        assert requests.get(f"{site}/portal/", timeout=5).status_code == 400
        # v4's own paths answer (401 without a token); the other dialect's are not there
        v4_path = requests.get(f"{address}/api/v4/client-portal/tickets", timeout=5).status_code
        assert v4_path == (401 if dialect == "v4" else 404)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert "Stopping" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{address}/", timeout=2)


def test_demo_refuses_bad_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--error-rate", "2"])
    assert exit_info.value.code == 2 and "between 0 and 1" in capsys.readouterr().err


def test_wsgi_entry_stops_with_the_message_and_no_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DDSITE_")}
    env["DDSITE_DESKDIRECTOR_HOSTS"] = "https://dd.example.com/portal"
    result = subprocess.run([sys.executable, "-c", "import app"], capture_output=True, text=True,
                            env=env, cwd=os.path.dirname(os.path.dirname(__file__)), timeout=30)
    assert result.returncode == 1
    assert "DDSITE_DESKDIRECTOR_HOSTS" in result.stderr and "Traceback" not in result.stderr


def test_wsgi_entry_builds_the_app_from_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DDSITE_")}
    env.update(DDSITE_DESKDIRECTOR_HOSTS="https://dd.example.com", DDSITE_SECRET_KEY="s",
               DDSITE_SESSION_DIR=str(tmp_path))
    code = "import app, gc; print(app.app.config['DESKDIRECTOR_HOSTS'], gc.get_freeze_count() > 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            cwd=os.path.dirname(os.path.dirname(__file__)), timeout=30)
    # What start-up built is out of the garbage collector's reach (see freeze_startup_objects).
    assert result.returncode == 0 and "['https://dd.example.com'] True" in result.stdout
