"""`ddsite serve` as an operator runs it: gunicorn workers, SIGTERM, config errors, access log,
metrics across workers, and two servers sharing one Redis (stopped and started again)."""

from __future__ import annotations

import gc
import glob
import html
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import free_port, make_token, wait_for_port

METRICS_TOKEN = "serve-metrics-token-0123456789"


def _environment(tmp_path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DDSITE_", "PROMETHEUS_"))}
    env.update({"PYTHONUNBUFFERED": "1", "DDSITE_SECRET_KEY": "shared-secret-of-every-server",
                "DDSITE_DESKDIRECTOR_HOSTS": "https://dd.example.com",
                "DDSITE_SESSION_DIR": str(tmp_path / "sessions"), **variables})
    return env


class Served:
    """One `ddsite serve` process on a free port; its output is collected in a file."""

    def __init__(self, tmp_path, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"serve-{self.port}.log"
        with open(self.log_path, "w") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ddsite.cli", "serve", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(workers), "--threads", "2"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)

    def ready(self) -> Served:
        """Wait until it listens (servers started together boot in parallel)."""
        wait_for_port(self.port, timeout=30, process=self.process)
        return self

    def output(self) -> str:
        return self.log_path.read_text()

    def terminate(self) -> None:
        """SIGTERM, as a service manager stops it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        """SIGTERM, and wait; return the exit code."""
        self.terminate()
        try:
            # gunicorn gives requests in flight up to its graceful timeout (about a minute)
            return self.process.wait(timeout=90)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def test_serve_runs_workers_redacts_the_access_log_and_stops_on_sigterm(tmp_path):
    metrics_folder = tmp_path / "metrics"
    env = _environment(tmp_path, DDSITE_METRICS_TOKEN=METRICS_TOKEN,
                       PROMETHEUS_MULTIPROC_DIR=str(metrics_folder))
    server = Served(tmp_path, env, workers=2).ready()
    try:
        assert requests.get(f"{server.url}/healthz", timeout=10).text == "ok\n"
        token = make_token()
        intake = requests.get(f"{server.url}/portal/?access_token={token}&host=https://x.example",
                              timeout=10)
        assert intake.status_code == 400  # not an allowed instance
        # enough concurrent requests that both workers answer some
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            while sent < 400 and len(_worker_files(metrics_folder)) < 2:
                answers = list(pool.map(lambda _: requests.get(f"{server.url}/healthz",
                                                               timeout=10).status_code, range(8)))
                assert answers == [200] * 8
                sent += 8
        assert len(_worker_files(metrics_folder)) == 2, "one worker answered everything"
        scraped = requests.get(f"{server.url}/metrics", timeout=10,
                               headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
        count = re.search(r'ddsite_page_seconds_count\{method="GET",route="/healthz",'
                          r'status="200"\} (\S+)', scraped).group(1)
        assert float(count) == sent + 1  # the figures of both workers, added up
    finally:
        code = server.stop()
    output = server.output()
    assert code == 0
    assert output.count("Booting worker with pid") == 2 and "Using worker: gthread" in output
    assert "Handling signal: term" in output and "Shutting down: Master" in output
    assert "GET /portal/?access_token=[redacted]" in output
    assert token not in output and METRICS_TOKEN not in output and "Traceback" not in output


def _worker_files(folder) -> set[str]:
    return {re.search(r"_(\d+)\.db$", path).group(1)
            for path in glob.glob(os.path.join(folder, "histogram_*.db"))}


def test_serve_stops_on_bad_configuration_before_any_worker_starts(tmp_path):
    env = _environment(tmp_path, DDSITE_DESKDIRECTOR_HOSTS="https://dd.example.com/portal")
    result = subprocess.run([sys.executable, "-m", "ddsite.cli", "serve", "--bind",
                             f"127.0.0.1:{free_port()}"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 2
    assert "configuration error: DDSITE_DESKDIRECTOR_HOSTS" in result.stderr
    assert "Booting worker" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_worker_timeout_outlasts_the_slowest_deskdirector_read():
    from ddsite.config import DEFAULTS
    from ddsite.server import worker_timeout

    slowest = (DEFAULTS["CONNECT_TIMEOUT"] + DEFAULTS["READ_TIMEOUT"]) * (1 + DEFAULTS["GET_RETRIES"])
    assert worker_timeout(DEFAULTS) > slowest
    assert worker_timeout({**DEFAULTS, "READ_TIMEOUT": 60}) > 60 * 3


def test_serve_sizes_the_deskdirector_pools_from_its_threads(tmp_path, monkeypatch):
    from gunicorn.app.base import BaseApplication

    from ddsite.cli import main

    seen = {}

    def run(server):  # instead of forking workers: what would they have been given?
        app = server.flask_app
        seen["threads"] = server.cfg.threads
        seen["frozen"] = gc.get_freeze_count() > 0  # start-up's objects, before the fork
        gc.unfreeze()
        seen["pool"] = app.extensions["ddsite"].transport.pool_size  # connections per instance
        app.extensions["ddsite"].close()

    monkeypatch.setattr(BaseApplication, "run", run)
    monkeypatch.setattr("ddsite.server.prepare_metrics_folder", lambda: None)  # not this process's
    for name, value in _environment(tmp_path).items():
        if name.startswith("DDSITE_"):
            monkeypatch.setenv(name, value)
    assert main(["serve", "--bind", f"127.0.0.1:{free_port()}", "--threads", "3"]) == 0
    assert seen == {"threads": 3, "pool": 3, "frozen": True}
    # Without --threads: DDSITE_SERVER_THREADS, for gunicorn and the pools alike, else 8.
    monkeypatch.setenv("DDSITE_SERVER_THREADS", "6")
    assert main(["serve", "--bind", f"127.0.0.1:{free_port()}"]) == 0
    assert seen == {"threads": 6, "pool": 6, "frozen": True}
    monkeypatch.delenv("DDSITE_SERVER_THREADS")
    assert main(["serve", "--bind", f"127.0.0.1:{free_port()}"]) == 0
    assert seen == {"threads": 8, "pool": 8, "frozen": True}


def test_serve_refuses_a_bad_bind_address(capsys):
    from ddsite.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--bind", "localhost"])
    assert exit_info.value.code == 2 and "HOST:PORT" in capsys.readouterr().err


def test_run_says_it_is_the_development_server(tmp_path):
    env = _environment(tmp_path)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ddsite.cli", "run", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=env)
    try:
        first_line = process.stderr.readline()
        assert "development server" in first_line and "ddsite serve" in first_line
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


# ---- two servers, one Redis ------------------------------------------------------------------

@pytest.fixture
def sandbox(tmp_path):
    """The DeskDirector stand-in on localhost; the site's two servers are told its keys."""
    from ddsite.demo import ServerThread
    from ddsite.sandbox import create_sandbox

    first_port = free_port()
    server = ServerThread("localhost")
    app = create_sandbox(site_url=f"http://127.0.0.1:{first_port}")
    server.attach(app)
    server.start()
    keys = tmp_path / "keys.pem"
    keys.write_bytes(app.extensions["sandbox"]["tokens"].public_pem())
    yield {"url": f"http://localhost:{server.port}", "keys": str(keys), "app": app,
           "first_port": first_port}
    server.stop()


class Browser:
    """Carries the session cookie by hand: it is Secure, and these servers speak plain HTTP."""

    def __init__(self) -> None:
        self.cookie = None

    def get(self, url: str, **kwargs) -> requests.Response:
        return self._send("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> requests.Response:
        return self._send("POST", url, **kwargs)

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        headers = {"Cookie": f"ddsite_session={self.cookie}"} if self.cookie else {}
        response = requests.request(method, url, headers=headers, allow_redirects=False,
                                    timeout=15, **kwargs)
        match = re.search(r"ddsite_session=([^;]*);", response.headers.get("Set-Cookie", ""))
        if match:
            self.cookie = match.group(1) or None
        return response


def _form(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrf_token|form_key)" type="hidden" value="([^"]+)"', page))


def _frame_src(sandbox_url: str) -> str:
    shell = requests.get(f"{sandbox_url}/portal/", timeout=10).text
    return html.unescape(re.search(r'<iframe id="site"[^>]*src="([^"]+)"', shell).group(1))


def test_two_servers_share_sessions_csrf_once_keys_and_drafts_over_redis(tmp_path, sandbox,
                                                                         redis_server):
    env = _environment(tmp_path, DDSITE_REDIS_URL=redis_server.url,
                       DDSITE_DESKDIRECTOR_HOSTS=sandbox["url"],
                       DDSITE_JWT_PUBLIC_KEYS=sandbox["keys"])
    first = second = None
    try:
        first, second = Served(tmp_path, env), Served(tmp_path, env)
        first.ready(), second.ready()
        a, b = first.url, second.url
        browser = Browser()
        # intake on one server, every later step on the other or back
        src = _frame_src(sandbox["url"]).replace(f"127.0.0.1:{sandbox['first_port']}",
                                                 f"127.0.0.1:{first.port}")
        intake = browser.get(src)
        assert intake.status_code == 303 and browser.cookie
        settled = browser.get(b + intake.headers["Location"])
        assert settled.status_code == 303 and settled.headers["Location"] == "/portal/"
        assert browser.get(b + "/portal/").status_code == 200
        ticket_path = re.search(r'href="(/portal/tickets/\d+)"',
                                browser.get(a + "/portal/tickets").text).group(1)

        # the form is shown by A, sent through B, and sent again through A: one note only
        fields = {**_form(browser.get(a + ticket_path).text), "note": "Sent once via two servers"}
        sent = browser.post(b + ticket_path, data=fields)
        assert sent.status_code == 303
        again = browser.post(a + ticket_path, data=fields)
        assert again.status_code == 303
        page = browser.get(a + again.headers["Location"].split("#")[0]).text
        assert "already sent" in page and page.count("Sent once via two servers") == 1

        # DeskDirector fails the next reply: the draft kept by B is offered back by A
        faults = sandbox["app"].extensions["sandbox"]["faults"]
        fields = {**_form(browser.get(b + ticket_path).text), "note": "Keep me"}
        faults.set(error_rate=1.0, kinds=("503",))
        kept = browser.post(b + ticket_path, data=fields)
        faults.set(error_rate=0.0)
        assert kept.status_code == 502 and "kept" in kept.text
        restored = browser.get(a + ticket_path).text
        assert "was kept and has not been sent" in restored and "Keep me" in restored

        # Redis stops: both servers answer with the 503 page and stay alive; then it is back
        redis_server.stop()
        for url in (a, b):
            down = browser.get(url + "/portal/")
            assert down.status_code == 503 and "briefly unavailable" in down.text
            assert "Traceback" not in down.text
            assert requests.get(url + "/healthz", timeout=10).status_code == 200
            ready = requests.get(url + "/readyz", timeout=10)
            assert ready.status_code == 503 and "Redis" in ready.text
        redis_server.start()
        assert requests.get(b + "/readyz", timeout=10).status_code == 200
        browser = Browser()  # Redis kept nothing (no persistence): sign in again, on B this time
        src = _frame_src(sandbox["url"]).replace(f"127.0.0.1:{sandbox['first_port']}",
                                                 f"127.0.0.1:{second.port}")
        intake = browser.get(src)
        assert intake.status_code == 303
        assert browser.get(a + intake.headers["Location"]).status_code == 303
        assert browser.get(a + "/portal/").status_code == 200
    finally:
        servers = [server for server in (first, second) if server is not None]
        for server in servers:
            server.terminate()  # both at once: each takes a moment to drain its workers
        codes = [server.stop() for server in servers]
    outputs = (first.output(), second.output())
    assert codes == [0, 0], outputs
    for output in outputs:
        assert "Traceback" not in output and "access_token=eyJ" not in output, output
