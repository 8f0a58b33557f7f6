"""Benchmark: every row of the performance table, ddsite against bare Flask under one gunicorn.

Run:  .venv/bin/pip install -e '.[server]' && .venv/bin/python tests/benchmarks/bench_site.py
      [--baseline DIR] [--repeat 3] [--latency 0.05] [--quick] [--rows throughput,intake]
      [--threads 8] [--workers 2] [--data-dir /var/tmp]

The sandbox runs under gunicorn (keep-alive) with `--latency` added to every API call, and counts
calls and TCP connections on its side. ddsite and a bare Flask "hello" run under the same gunicorn
(gthread, 2 workers x 8 threads, or `--threads`). With `--baseline DIR` (another checkout, e.g.
`git worktree add /tmp/ddsite-main main`) both trees run side by side and every row is measured
for each in turn, interleaved, `--repeat` times; medians are printed. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

HERE = Path(__file__).resolve().parent
TREE = HERE.parent.parent
WORKERS, THREADS = 2, 8
# Where the sites' session stores are made: on disk, as DDSITE_SESSION_DIR is in production
# (/var/lib/ddsite/sessions). /tmp may be a RAM disk elsewhere, and on our CI machine it makes
# creating a file cost 0.75 ms against 0.03 ms in any other folder of the same disk.
DATA_DIR = "/var/tmp" if os.path.isdir("/var/tmp") else None
# The number of users at once whose pages' CPU the concurrency row also counts.
CPU_AT = 32
GUNICORN = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--log-level", "warning"]


# ---- servers -------------------------------------------------------------------------------------
def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """One gunicorn, started from `cwd` with `target`; waits until it accepts connections."""

    def __init__(self, target: str, *, cwd: Path, env: dict[str, str], workers: int = WORKERS,
                 threads: int = THREADS, keep_alive: int = 5) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, **env, "PYTHONPATH": f"{cwd}{os.pathsep}{HERE}"}
        self._process = subprocess.Popen(
            [*GUNICORN, "-w", str(workers), "--threads", str(threads), "--keep-alive",
             str(keep_alive), "-b", f"127.0.0.1:{self.port}", "--chdir", str(cwd), target],
            env=full_env, cwd=cwd)  # `python -m` puts its working folder first on the path
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"gunicorn {target} exited with {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn {target} did not start")

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by gunicorn and its workers, live or ended (from /proc)."""
        return process_cpu(self._process.pid, ended_children=True) + sum(
            process_cpu(child) for child in children(self._process.pid))

    def stop(self) -> None:
        """Stop it and wait."""
        self._process.terminate()
        self._process.wait(timeout=30)


def children(pid: int) -> list[int]:
    """The process ids of `pid`'s children (Linux)."""
    with contextlib.suppress(OSError):
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def process_cpu(pid: int, *, ended_children: bool = False) -> float:
    """CPU seconds (user + system) one process has used, its finished threads included, and
    with `ended_children` that of its children it has reaped (a restarted worker) (Linux)."""
    with contextlib.suppress(OSError):
        # Fields after the command's closing parenthesis: utime, stime, cutime and cstime are
        # the 12th to the 15th.
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks = sum(int(f) for f in fields[11:15 if ended_children else 13])
        return ticks / os.sysconf("SC_CLK_TCK")
    return 0.0


# ---- a small browser ----------------------------------------------------------------------------
@dataclass
class Reply:
    """One HTTP reply, body decompressed."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    """Keep-alive connections and cookies per origin, like a browser tab (Secure cookies too)."""

    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    _connections: dict[str, http.client.HTTPConnection] = field(default_factory=dict)

    def get(self, url: str, headers: dict[str, str] | None = None, method: str = "GET",
            body: bytes | None = None) -> Reply:
        """One request, no redirects followed."""
        parts = urlsplit(url)
        origin = parts.netloc
        jar = self.cookies.setdefault(origin, {})
        sent = {"Accept-Encoding": "gzip", **(headers or {})}
        if jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            connection = self._connections.get(origin)
            if connection is None:
                connection = self._connections[origin] = http.client.HTTPConnection(origin, timeout=60)
            try:
                connection.request(method, target, body=body, headers=sent)
                response = connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                del self._connections[origin]
                if attempt == 2:
                    raise
        if response.will_close:
            connection.close()
            del self._connections[origin]
        reply_headers = {k.lower(): v for k, v in response.getheaders()}
        for raw in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in rest.lower() or not value:
                jar.pop(name.strip(), None)
            else:
                jar[name.strip()] = value
        if reply_headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        return Reply(response.status, reply_headers, data, url)

    def open(self, url: str) -> tuple[Reply, int]:
        """GET following redirects; the final reply and how many requests it took."""
        count = 0
        while True:
            reply = self.get(url)
            count += 1
            if reply.status not in (301, 302, 303, 307, 308):
                return reply, count
            url = urljoin(url, reply.headers["location"])

    def close(self) -> None:
        """Close every connection."""
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


# ---- what is measured ---------------------------------------------------------------------------
def timed(call: Callable[[], Reply]) -> float:
    """Seconds one call took; the reply must be a success."""
    started = time.perf_counter()
    reply = call()
    elapsed = time.perf_counter() - started
    if reply.status != 200:
        raise RuntimeError(f"{reply.url} answered {reply.status}: {reply.text[:300]}")
    return elapsed


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


class Sandbox:
    """The counting sandbox under gunicorn, and direct calls to its API."""

    def __init__(self, latency: float) -> None:
        self.server = Gunicorn("sandbox_server:create()", cwd=TREE, workers=1, threads=128,
                               keep_alive=120, env={"BENCH_SITE_URL": "http://127.0.0.1:1"})
        self.url = self.server.url
        self.latency = latency
        self.browser = Browser()
        self.set_latency(latency)

    def set_latency(self, seconds: float) -> None:
        """Change the latency added to every API call."""
        self.browser.get(f"{self.url}/sandbox/faults", method="POST",
                         headers={"Content-Type": "application/json"},
                         body=json.dumps({"latency": seconds, "errorRate": 0}).encode())

    def token(self, app_name: str, user_id: int | None = None) -> str:
        """A fresh token from the portal shell, as the iframe would carry it."""
        cookie = {"portal": "sandbox_contact", "tech": "sandbox_agent"}[app_name]
        headers = {"Cookie": f"{cookie}={user_id}"} if user_id else {}
        shell = Browser().get(f"{self.url}/{app_name}/", headers=headers).text
        src = re.search(r'<iframe[^>]*src="([^"]+)"', shell).group(1).replace("&amp;", "&")
        return parse_qs(urlsplit(src).query)["access_token"][0]

    def api(self, path: str, token: str, method: str = "GET", body: dict | None = None) -> Reply:
        """A direct API call with `token`."""
        headers = {"Authorization": f"DdAccessToken {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        return self.browser.get(self.url + path, headers=headers, method=method, body=data)

    def stats(self) -> dict:
        """Calls and connections since the last reset."""
        return json.loads(self.browser.get(f"{self.url}/bench/stats").body)

    def reset(self) -> None:
        """Start counting again."""
        self.browser.get(f"{self.url}/bench/reset", method="POST")

    def public_keys(self) -> bytes:
        """The keys DeskDirector publishes (PEM, or PEM inside JSON), as a PEM file's content."""
        body = self.browser.get(f"{self.url}/api/v4/auth/public-keys").body
        if body.lstrip().startswith(b"-----"):
            return body
        data = json.loads(body)
        rows = data.get("keys", []) if isinstance(data, dict) else data
        return "\n".join(row.get("publicKey", "") for row in rows).encode()


class Site:
    """ddsite from one source tree under gunicorn, with signed-in users."""

    def __init__(self, label: str, tree: Path, sandbox: Sandbox, folder: Path,
                 threads: int = THREADS, workers: int = WORKERS) -> None:
        self.label, self.tree, self.sandbox = label, tree, sandbox
        keys = folder / "keys.pem"
        keys.write_bytes(sandbox.public_keys())
        self.server = Gunicorn("app:app", cwd=tree, workers=workers, threads=threads, env={
            "DDSITE_SERVER_THREADS": str(threads),
            "DDSITE_DESKDIRECTOR_HOSTS": sandbox.url, "DDSITE_SECRET_KEY": "bench-" + "x" * 40,
            "DDSITE_JWT_PUBLIC_KEYS": str(keys), "DDSITE_SESSION_DIR": str(folder / "sessions"),
            # Hundreds of sign-ins from one loopback address are the benchmark, not a flood.
            **{f"DDSITE_{limit}": "1000000/minute" for limit in (
                "INTAKE_LIMIT_PER_CLIENT", "INTAKE_LIMIT_PER_INSTANCE",
                "FAILED_SIGN_IN_LIMIT_PER_CLIENT", "FAILED_SIGN_IN_LIMIT_PER_INSTANCE")}})
        self.url = self.server.url

    def intake_url(self, app_name: str, path: str, user_id: int | None = None) -> str:
        """The iframe's address: a path with a fresh token and the instance."""
        token = self.sandbox.token(app_name, user_id)
        return f"{self.url}{path}?{urlencode({'access_token': token, 'host': self.sandbox.url})}"

    def signed_in(self, app_name: str, count: int) -> list[Browser]:
        """`count` browsers, each signed in as the shell's default user."""
        def one(_index: int) -> Browser:
            browser = Browser()
            reply, _ = browser.open(self.intake_url(app_name, f"/{app_name}/"))
            if reply.status != 200:
                raise RuntimeError(f"sign-in failed: {reply.status} {reply.text[:300]}")
            return browser
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(one, range(count)))


@dataclass
class Setup:
    """Ids and tokens the rows share."""

    portal_token: str
    tech_token: str
    portal_ticket: int
    agent_ticket: int
    short_ticket: int
    long_ticket: int


def prepare(sandbox: Sandbox, notes: int) -> Setup:
    """Pick tickets, and give one of them a `notes`-note conversation."""
    portal_token, tech_token = sandbox.token("portal"), sandbox.token("tech")
    rows = json.loads(sandbox.api("/api/v4/portal/tickets?status=any&take=100", portal_token).body)
    rows = rows["results"]
    portal_ticket = rows[0]["id"]
    counts = {}
    for ticket_id in range(1001, 1065):
        data = json.loads(sandbox.api(f"/api/v4/tech/tickets/{ticket_id}", tech_token).body)
        counts[ticket_id] = len(data["notes"])
    short = next(t for t, n in counts.items() if n == 5 and t not in (1001, portal_ticket))
    long = next(t for t, n in counts.items() if t not in (1001, portal_ticket, short))
    sandbox.set_latency(0)
    for number in range(notes - counts[long]):
        sandbox.api(f"/api/v4/tech/tickets/{long}/notes", tech_token, "POST",
                    {"note": f"Follow-up number {number}: still looking into it.", "isInternal": False})
    sandbox.set_latency(sandbox.latency)
    return Setup(portal_token, tech_token, portal_ticket, 1001, short, long)


class Rows:
    """Each method measures one row for one site and returns its figures."""

    def __init__(self, sandbox: Sandbox, setup: Setup, quick: bool) -> None:
        self.sandbox, self.setup = sandbox, setup
        self.n = 8 if quick else 20
        self.pages_per_user = 3 if quick else 6

    def _calls(self, paths: list[str], token: str) -> float:
        """Median seconds of the slowest of these direct API calls."""
        return max(statistics.median(timed(lambda p=p: self.sandbox.api(p, token))
                                     for _ in range(self.n)) for p in paths)

    def single_call_pages(self, site: Site) -> dict:
        """Pages with one DeskDirector call, divided by that call alone."""
        portal, tech = site.signed_in("portal", 1)[0], site.signed_in("tech", 1)[0]
        s = self.setup
        cases = [
            (portal, "/portal/tickets", "/api/v4/portal/tickets?status=open&skip=0&take=20&orderBy=activity",
             s.portal_token),
            (portal, f"/portal/tickets/{s.portal_ticket}", f"/api/v4/portal/tickets/{s.portal_ticket}",
             s.portal_token),
            (tech, "/tech/queue", "/api/v4/tech/tickets?status=open&skip=0&take=20&assigned=me",
             s.tech_token),
        ]
        ratios = []
        for browser, page, call, token in cases:
            browser.get(site.url + page)
            pages = [timed(lambda b=browser, p=page: b.get(site.url + p)) for _ in range(self.n)]
            ratios.append(statistics.median(pages) / self._calls([call], token))
        return {"low": min(ratios), "high": max(ratios)}

    def agent_ticket(self, site: Site) -> dict:
        """The TECH ticket page (ticket, statuses, priorities, agents) against its slowest call."""
        browser = site.signed_in("tech", 1)[0]
        url = f"{site.url}/tech/tickets/{self.setup.agent_ticket}"
        browser.get(url)
        pages = [timed(lambda: browser.get(url)) for _ in range(self.n * 2)]
        slowest = self._calls([f"/api/v4/tech/tickets/{self.setup.agent_ticket}", "/api/v4/tech/statuses",
                               "/api/v4/tech/priorities", "/api/v4/tech/agents"], self.setup.tech_token)
        return {"p50": statistics.median(pages) / slowest, "p95": percentile(pages, 0.95) / slowest,
                "ms": statistics.median(pages) * 1000}

    def intake(self, site: Site) -> dict:
        """From the iframe's deep link with a token to the ticket page: requests and time."""
        ticket = self.setup.portal_ticket
        path = f"/portal/tickets/{ticket}"
        slowest = self._calls([f"/api/v4/portal/tickets/{ticket}", "/api/v2/user/client"],
                              self.setup.portal_token)
        fresh, fresh_requests, back, back_requests = [], [], [], []
        returning = site.signed_in("portal", 1)[0]
        for _ in range(self.n):  # a new token, new browser and new session each: spread widely
            url = site.intake_url("portal", path)
            browser = Browser()
            started = time.perf_counter()
            reply, count = browser.open(url)
            fresh.append(time.perf_counter() - started)
            fresh_requests.append(count)
            url = site.intake_url("portal", path)
            started = time.perf_counter()
            reply, count = returning.open(url)
            back.append(time.perf_counter() - started)
            back_requests.append(count)
            assert reply.status == 200, reply.status
        return {"fresh_requests": statistics.median(fresh_requests),
                "fresh": statistics.median(fresh) / slowest,
                "back_requests": statistics.median(back_requests),
                "back": statistics.median(back) / slowest}

    def concurrency(self, site: Site, users: tuple[int, ...] = (1, 8, 32, 64)) -> dict:
        """TECH ticket page p50 with N users at once, each loading it repeatedly; and at
        `CPU_AT` users, the CPU each page cost ddsite, the sandbox and this process's users, and
        how busy that kept the machine's cores."""
        browsers = site.signed_in("tech", max(users))
        url = f"{site.url}/tech/tickets/{self.setup.agent_ticket}"
        figures: dict = {}
        for count in users:
            before: dict[str, float] = {}
            # Taken once every user has loaded a first page: only the timed pages are counted.
            timings = self._together(browsers[:count], url,
                                     at_start=lambda b=before: b.update(self._cpu(site)))
            spent = {part: after - before[part] for part, after in self._cpu(site).items()}
            figures[count] = statistics.median(timings) * 1000
            if count == CPU_AT:
                cores = len(os.sched_getaffinity(0))  # the cores this run may use
                figures["cpu"] = {**{part: spent[part] / len(timings) * 1000
                                     for part in ("ddsite", "sandbox", "users")},
                                  "busy": (spent["ddsite"] + spent["sandbox"] + spent["users"])
                                  / spent["wall"] / cores, "cores": cores}
        for browser in browsers:
            browser.close()
        return figures

    def _cpu(self, site: Site) -> dict[str, float]:
        """CPU seconds used so far: ddsite's gunicorn, the sandbox's, and this process; and
        the clock."""
        return {"ddsite": site.server.cpu_seconds(), "sandbox": self.sandbox.server.cpu_seconds(),
                "users": time.process_time(), "wall": time.perf_counter()}

    def _together(self, browsers: list[Browser], url: str,
                  at_start: Callable[[], None] = lambda: None) -> list[float]:
        """Every browser loads `url` repeatedly, all starting at once; every page's seconds."""
        timings: list[float] = []
        lock = threading.Lock()
        start = threading.Barrier(len(browsers), action=at_start)

        def user(browser: Browser) -> None:
            browser.get(url)
            start.wait()
            mine = [timed(lambda: browser.get(url)) for _ in range(self.pages_per_user)]
            with lock:
                timings.extend(mine)
        with ThreadPoolExecutor(len(browsers)) as pool:
            list(pool.map(user, browsers))
        return timings

    def throughput(self, site: Site, hello: Gunicorn, seconds: float = 3.0, clients: int = 16) -> dict:
        """Requests per second: a signed-in page without calls, and bare Flask hello."""
        browsers = site.signed_in("tech", clients)

        def rate(urls: list[tuple[Browser, str]]) -> float:
            done = [0] * len(urls)
            stop = time.perf_counter() + seconds

            def client(index: int) -> None:
                browser, url = urls[index]
                while time.perf_counter() < stop:
                    browser.get(url)
                    done[index] += 1
            with ThreadPoolExecutor(len(urls)) as pool:
                list(pool.map(client, range(len(urls))))
            return sum(done) / seconds

        hello_browsers = [Browser() for _ in range(clients)]
        ours = rate([(b, f"{site.url}/tech/") for b in browsers])
        bare = rate([(b, f"{hello.url}/") for b in hello_browsers])
        return {"ddsite": ours, "hello": bare, "share": ours / bare}

    def calls_per_page(self, site: Site) -> dict:
        """Upstream calls per TECH ticket page, counted by the sandbox (after one warm page)."""
        browser = site.signed_in("tech", 1)[0]
        url = f"{site.url}/tech/tickets/{self.setup.agent_ticket}"
        browser.get(url)
        self.sandbox.reset()
        for _ in range(10):
            browser.get(url)
        return {"calls": self.sandbox.stats()["calls"] / 10}

    def connections(self, site: Site, users: int = 50, pages: int = 1000) -> dict:
        """Distinct TCP connections to the sandbox over `pages` pages by `users` users."""
        s = self.setup
        result = {}
        for app_name, paths in (("portal", ["/portal/tickets", f"/portal/tickets/{s.portal_ticket}"]),
                                ("tech", ["/tech/queue", f"/tech/tickets/{s.agent_ticket}"])):
            browsers = site.signed_in(app_name, users)
            per_half = pages // users // 2
            self.sandbox.reset()
            _browse(site, browsers, paths, per_half, 0)
            warm = set(self.sandbox.stats()["ports"])
            _browse(site, browsers, paths, per_half, 1)
            ports = set(self.sandbox.stats()["ports"])
            result[app_name] = {"total": len(ports), "new": len(ports - warm)}
            for browser in browsers:
                browser.close()
        return result

    def requests_per_view(self, site: Site) -> dict:
        """Requests a browser makes for a second page: the page, plus assets it may not reuse."""
        browser = site.signed_in("tech", 1)[0]
        page = browser.get(f"{site.url}/tech/queue")
        assets = re.findall(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"', page.text)
        refetched = []
        for asset in assets:
            reply = browser.get(urljoin(page.url, asset.replace("&amp;", "&")))
            if not reusable(reply.headers.get("cache-control", "")):
                refetched.append(asset.rsplit("/", 1)[-1].split("?")[0])
        compressed = "gzip" in Browser().get(f"{site.url}/tech/queue",
                                             {"Cookie": _cookie(browser, site)}).headers.get(
                                                 "content-encoding", "")
        return {"requests": 1 + len(refetched), "refetched": refetched, "gzip": compressed}

    def long_conversation(self, site: Site) -> dict:
        """A 1,000-note TECH ticket page against a 5-note one."""
        browser = site.signed_in("tech", 1)[0]
        short = f"{site.url}/tech/tickets/{self.setup.short_ticket}"
        long = f"{site.url}/tech/tickets/{self.setup.long_ticket}"
        browser.get(short), browser.get(long)
        shorts, longs = [], []
        for _ in range(max(5, self.n // 2)):
            shorts.append(timed(lambda: browser.get(short)))
            longs.append(timed(lambda: browser.get(long)))
        # The same two tickets straight from the sandbox: what the API alone costs.
        token = self.setup.tech_token
        api = [self._calls([f"/api/v4/tech/tickets/{t}"], token)
               for t in (self.setup.short_ticket, self.setup.long_ticket)]
        return {"ratio": statistics.median(longs) / statistics.median(shorts),
                "long_ms": statistics.median(longs) * 1000, "api_ratio": api[1] / api[0]}


def _browse(site: Site, browsers: list[Browser], paths: list[str], count: int, offset: int) -> None:
    """All browsers at once, each loading `count` pages taken in turn from `paths`."""
    def user(browser: Browser) -> None:
        for index in range(count):
            browser.get(site.url + paths[(index + offset) % len(paths)])
    with ThreadPoolExecutor(len(browsers)) as pool:
        list(pool.map(user, browsers))


def _cookie(browser: Browser, site: Site) -> str:
    jar = browser.cookies.get(urlsplit(site.url).netloc, {})
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def reusable(cache_control: str) -> bool:
    """Would a browser reuse this reply on the next page without asking (fresh, max-age > 0)?"""
    directives = {d.strip().split("=")[0]: d.strip() for d in cache_control.lower().split(",")}
    if "no-store" in directives or "no-cache" in directives:
        return False
    match = re.search(r"max-age=(\d+)", cache_control)
    return bool(match and int(match.group(1)) > 0)


def probe(tree: Path, *args: str) -> dict:
    """Run probe.py with `tree`'s ddsite first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    output = subprocess.run([sys.executable, str(HERE / "probe.py"), *args], env=env, cwd=tree,
                            capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


# ---- the run --------------------------------------------------------------------------------------
# Every row, in the order measured (the first eight per run, interleaved; the rest once at the end).
ROWS = ("single_call_pages", "agent_ticket", "intake", "concurrency", "throughput", "calls_per_page",
        "connections", "long_conversation", "requests_per_view", "client_cpu", "demo")


def median_of(runs: list[dict], *keys) -> float:
    """Median over runs of one figure, addressed by keys."""
    values = []
    for run in runs:
        value = run
        for key in keys:
            value = value[key]
        values.append(value)
    return statistics.median(values)


def main() -> None:
    """Start the servers, measure every row for every tree, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="another ddsite checkout to measure alongside")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of every row")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per API call")
    parser.add_argument("--notes", type=int, default=1000, help="notes in the long conversation")
    parser.add_argument("--quick", action="store_true", help="fewer samples per figure")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"gunicorn threads per ddsite worker (default {THREADS}, the issue's)")
    parser.add_argument("--workers", type=int, default=WORKERS,
                        help=f"gunicorn workers for ddsite and hello (default {WORKERS}, the issue's)")
    parser.add_argument("--data-dir", default=DATA_DIR,
                        help=f"where the sites keep their session stores (default {DATA_DIR})")
    parser.add_argument("--rows", help="only these rows, comma separated (e.g. throughput,intake; "
                                       "names: " + ", ".join(ROWS) + ")")
    args = parser.parse_args()
    wanted = set(args.rows.split(",")) if args.rows else set(ROWS)
    if wanted - set(ROWS):
        parser.error(f"unknown rows: {', '.join(sorted(wanted - set(ROWS)))}")
    trees = [("before", args.baseline.resolve())] if args.baseline else []
    trees.append(("this tree" if not args.baseline else "after", TREE))
    folder = tempfile.TemporaryDirectory(prefix="ddsite-bench-", dir=args.data_dir)
    servers: list = []
    try:
        sandbox = Sandbox(args.latency)
        servers.append(sandbox.server)
        hello = Gunicorn("hello_app:app", cwd=HERE, env={}, workers=args.workers,
                         threads=args.threads)
        servers.append(hello)
        sites = []
        for index, (label, tree) in enumerate(trees):
            (Path(folder.name) / str(index)).mkdir()
            site = Site(label, tree, sandbox, Path(folder.name) / str(index), args.threads,
                        args.workers)
            servers.append(site.server)
            sites.append(site)
        setup = prepare(sandbox, args.notes)
        rows = Rows(sandbox, setup, args.quick)
        print(f"gunicorn gthread {args.workers}x{args.threads}; sandbox latency {args.latency * 1000:.0f} ms "
              f"per call; {args.repeat} interleaved run(s); medians.", flush=True)
        results: dict[str, dict[str, list]] = {s.label: {} for s in sites}
        measured = [name for name in ROWS[:8] if name in wanted]
        for run in range(args.repeat):
            for name in measured:
                for site in (sites if run % 2 == 0 else sites[::-1]):
                    method = getattr(rows, name)
                    figures = method(site, hello) if name == "throughput" else method(site)
                    results[site.label].setdefault(name, []).append(figures)
            print(f"  run {run + 1} of {args.repeat} done", flush=True)
        if "requests_per_view" in wanted:
            for site in sites:
                results[site.label]["requests_per_view"] = [rows.requests_per_view(site)]
        sandbox.set_latency(0)
        if "client_cpu" in wanted:
            for _ in range(args.repeat):
                for site in sites:
                    results[site.label].setdefault("client_cpu", []).append(
                        probe(site.tree, "client-cpu", sandbox.url, setup.portal_token, "300"))
        if "demo" in wanted:
            for site in sites:
                results[site.label]["demo"] = [probe(site.tree, "demo-keepalive")]
        print_table(sites, results, args.notes, args.threads, args.workers)
    finally:
        for server in reversed(servers):
            server.stop()
        folder.cleanup()


def print_table(sites: list[Site], results: dict, notes: int, threads: int = THREADS,
                workers: int = WORKERS) -> None:
    """One line per row of the issue's table; a column per tree."""
    lines: list[tuple[str, list[str], str]] = []

    def row(what: str, render: Callable[[dict], str], goal: str) -> None:
        with contextlib.suppress(KeyError):  # a row left out with --rows
            lines.append((what, [render(results[s.label]) for s in sites], goal))

    row("single-call pages / slowest call",
        lambda r: f"{median_of(r['single_call_pages'], 'low'):.2f}-{median_of(r['single_call_pages'], 'high'):.2f}",
        "<= 1.10")
    row("agent ticket (4 calls) / slowest call",
        lambda r: f"{median_of(r['agent_ticket'], 'p50'):.2f}, p95 {median_of(r['agent_ticket'], 'p95'):.2f}",
        "<= 1.10")
    row("intake -> ticket deep link (new browser)",
        lambda r: f"{median_of(r['intake'], 'fresh_requests'):.0f} requests, {median_of(r['intake'], 'fresh'):.2f}x",
        "1 round, <= 1.15x")
    row("intake -> ticket deep link (cookie known)",
        lambda r: f"{median_of(r['intake'], 'back_requests'):.0f} requests, {median_of(r['intake'], 'back'):.2f}x",
        "1 round, <= 1.15x")

    def users(r: dict) -> str:
        runs = r["concurrency"]
        return " / ".join(f"{median_of(runs, n):.0f}" for n in runs[0] if n != "cpu") + " ms"

    def cpu(r: dict) -> str:
        runs = r["concurrency"]
        parts = {part: median_of(runs, "cpu", part) for part in ("ddsite", "sandbox", "users")}
        # Near 100 %, pages wait for a core, not for a thread or for DeskDirector.
        return (" + ".join(f"{part} {ms:.1f}" for part, ms in parts.items())
                + f" ms; {runs[0]['cpu']['cores']} cores "
                  f"{median_of(runs, 'cpu', 'busy') * 100:.0f} % busy")
    if "concurrency" in results[sites[0].label]:
        any_runs = results[sites[0].label]["concurrency"][0]
        row(f"agent ticket p50 at {' / '.join(str(n) for n in any_runs if n != 'cpu')} users",
            users, "<= 1.5x 1 user up to 32")
        row(f"  CPU per page at {CPU_AT} users", cpu, "(what bounds the row)")
    row("no-call page req/s vs bare Flask hello",
        lambda r: f"{median_of(r['throughput'], 'share') * 100:.0f} % "
                  f"({median_of(r['throughput'], 'ddsite'):.0f}/{median_of(r['throughput'], 'hello'):.0f})",
        ">= 60 %")
    row("upstream calls per agent ticket page",
        lambda r: f"{median_of(r['calls_per_page'], 'calls'):.1f}", "1 (look-ups cached)")
    row("TCP connections, 1,000 pages, 50 users",
        lambda r: (f"{median_of(r['connections'], 'portal', 'total'):.0f} contact / "
                   f"{median_of(r['connections'], 'tech', 'total'):.0f} agent; new after warm-up "
                   f"{median_of(r['connections'], 'portal', 'new'):.0f} / "
                   f"{median_of(r['connections'], 'tech', 'new'):.0f}"),
        f"<= {workers * threads}, none new")
    row("requests per page view",
        lambda r: (f"{r['requests_per_view'][0]['requests']} "
                   f"({', '.join(r['requests_per_view'][0]['refetched']) or 'assets cached'}; "
                   f"{'gzip' if r['requests_per_view'][0]['gzip'] else 'uncompressed'})"),
        "1 after the first page")
    row(f"{notes:,}-note conversation / 5-note",
        lambda r: (f"{median_of(r['long_conversation'], 'ratio'):.2f}x "
                   f"(the API call alone {median_of(r['long_conversation'], 'api_ratio'):.2f}x)"),
        "<= 1.15x")
    row("HTTP client CPU per DeskDirector GET",
        lambda r: f"{median_of(r['client_cpu'], 'cpu_ms_per_get'):.2f} ms", "<= 0.6 ms")
    row("sandbox (ddsite demo)",
        lambda r: "keep-alive" if r["demo"][0]["kept_alive"] else
        f"closes ({r['demo'][0]['answers'][0].get('connection') or 'HTTP/1.0'})", "keep-alive")

    headers = ["what", *(s.label for s in sites), "goal"]
    widths = [max(len(headers[0]), *(len(line[0]) for line in lines))]
    for index in range(len(sites)):
        widths.append(max(len(headers[index + 1]), *(len(line[1][index]) for line in lines)))
    widths.append(max(len("goal"), *(len(line[2]) for line in lines)))
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for what, cells, goal in lines:
        print(" | ".join(c.ljust(w) for c, w in zip([what, *cells, goal], widths, strict=True)))


if __name__ == "__main__":
    main()
