"""Soak: simulated contacts and agents write marked notes and requests through ddsite under
gunicorn, against the sandbox with upstream failures, late answers, a worker killed mid-run and
(with Redis) Redis restarted; then DeskDirector (the sandbox) is read and every marker accounted.

    .venv/bin/python tests/load/soak.py --users 50 --seconds 180 [--redis]

Each user is told something about each marker; the ledger keeps the last thing told and
compares it with what landed:
  confirmed once   told it was sent, and it landed once
  lost             told it was sent (or kept) and it never landed, or a kept draft never came back
  doubled          landed more than once
  kept, restored   kept as a draft after a failure, then restored from the form and sent, once
  ambiguous        the user was left without a certain answer (the page said "unknown", or no
                   answer came at all) and it was never resolved
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urljoin

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ddsite.demo import ServerThread  # noqa: E402
from ddsite.sandbox import create_sandbox  # noqa: E402

_FIELD = re.compile(r'<input[^>]*name="(csrf_token|form_key|form_name)"[^>]*value="([^"]*)"'
                    r'|<input[^>]*value="([^"]*)"[^>]*name="(csrf_token|form_key|form_name)"')


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    """Block until something listens on `port` (or fail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


# ---- the servers -------------------------------------------------------------------------------
class RedisServer:
    """A redis-server without persistence on a free port; `restart(pause)` stops it, waits, starts."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="soak-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self, pause: float) -> None:
        self.stop()
        time.sleep(pause)  # the outage itself
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Site:
    """ddsite under gunicorn (gthread), configured by DDSITE_* variables."""

    def __init__(self, sandbox_url: str, *, workers: int, redis_url: str | None,
                 read_timeout: float, code: Path = ROOT) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = tempfile.mkdtemp(prefix="soak-site-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DDSITE_")}
        env.update({
            "DDSITE_DESKDIRECTOR_HOSTS": sandbox_url,
            "DDSITE_SECRET_KEY": secrets.token_hex(32),
            "DDSITE_SESSION_DIR": os.path.join(self.folder, "sessions"),
            "DDSITE_CONNECT_TIMEOUT": "1",
            "DDSITE_READ_TIMEOUT": str(read_timeout),
        })
        if redis_url:
            env["DDSITE_REDIS_URL"] = redis_url
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self._log = open(os.path.join(self.folder, "log"), "w")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [str(gunicorn), "--chdir", str(code), "-k", "gthread", "--threads", "16",
             "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
             "--timeout", "60", "--log-level", "warning", "app:app"],
            env=env, stdout=subprocess.DEVNULL, stderr=self._log)
        wait_for_port(self.port)

    def workers(self) -> list[int]:
        """Process ids of the gunicorn workers (children of the master)."""
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == self.process.pid:
                children.append(int(entry))
        return children

    def kill_a_worker(self) -> None:
        """SIGKILL one worker mid-request; the master starts another."""
        workers = self.workers()
        if workers:
            os.kill(random.choice(workers), signal.SIGKILL)

    def log(self) -> str:
        with open(os.path.join(self.folder, "log")) as file:
            return file.read()

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# ---- the ledger --------------------------------------------------------------------------------
@dataclass
class Entry:
    """One marked note or request and everything its user was told about it."""

    marker: str
    kind: str  # "note" or "request"
    ticket_id: int | None
    told: list[str] = field(default_factory=list)
    kept: bool = False
    restored: bool = False
    restore_failed: bool = False
    trail: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    """What was attempted and told, plus every page's status and latency."""

    entries: dict[str, Entry] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    no_answer: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: Entry) -> Entry:
        with self.lock:
            self.entries[entry.marker] = entry
        return entry

    def page(self, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses.append(status)
            self.latencies.append(seconds)


def outcome_of(answer: Answer | None) -> str:
    """What ddsite told the user about a POST: sent | kept | unknown | asked | ended | other | none.

    ddsite answers a form it sent (now or before) with a redirect; anything else is a page that
    says what happened. A message shown on a later page is not used: it may be an older one.
    """
    if answer is None:
        return "none"
    if answer.first_status == 303:
        return "sent"
    text = answer.text
    if "had already reached DeskDirector" in text:
        return "sent"
    if "could not find out whether" in text or "may have reached DeskDirector" in text:
        return "unknown"
    if "It was not sent." in text or "has been kept" in text or "What you wrote was kept" in text:
        return "kept"
    if "You sent this same text here" in text:
        return "asked"
    if answer.status == 401:
        return "ended"
    return "other"


@dataclass
class Answer:
    """The first status of a request, and the page it ended on after redirects."""

    first_status: int
    status: int
    text: str
    url: str


# ---- one simulated user ------------------------------------------------------------------------
class User:
    """A contact or agent using ddsite in a loop until the deadline."""

    def __init__(self, soak: Soak, kind: str, user_id: int, tickets: list[int], cookies: bool,
                 seed: int) -> None:
        self.soak, self.kind, self.user_id, self.tickets = soak, kind, user_id, tickets
        self.cookies = cookies
        self.random = random.Random(seed)
        self.http = requests.Session()
        self.cookie: str | None = None
        self.handle: str | None = None
        self.app = "portal" if kind == "c" else "tech"
        self.signed_out = False

    # -- HTTP with a manual cookie (Secure cookies over http://127.0.0.1) and timing
    def request(self, method: str, url: str, **kwargs) -> Answer | None:
        """The answer after following redirects; None when no answer came."""
        url = urljoin(self.soak.site.url, url)
        first_status = None
        for _ in range(6):
            headers = {"Cookie": f"ddsite_session={self.cookie}"} if self.cookie else {}
            started = time.monotonic()
            try:
                response = self.http.request(method, url, headers=headers, allow_redirects=False,
                                             timeout=30, **kwargs)
            except requests.RequestException:
                with self.soak.ledger.lock:
                    self.soak.ledger.no_answer += 1
                return None if first_status is None else Answer(first_status, 0, "", url)
            self.soak.ledger.page(response.status_code, time.monotonic() - started)
            first_status = first_status or response.status_code
            if self.cookies and "ddsite_session" in response.cookies:
                self.cookie = response.cookies["ddsite_session"] or None
            if response.status_code not in (301, 302, 303, 307):
                return Answer(first_status, response.status_code, response.text, url)
            url = urljoin(url, response.headers["Location"])
            method, kwargs = "GET", {}
        return None

    def sign_in(self) -> bool:
        token = self.soak.tokens.mint(self.kind, self.user_id)
        query = urlencode({"access_token": token, "host": self.soak.sandbox_url})
        answer = self.request("GET", f"/{self.app}/?{query}")
        if answer is None or answer.status != 200:
            return False
        match = re.search(r"ddsid=([\w-]+)", answer.url)
        self.handle = match.group(1) if match else None
        return True

    def url(self, path: str) -> str:
        return f"{path}?ddsid={self.handle}" if self.handle else path

    def run(self, deadline: float) -> None:
        signed_in = False
        while time.monotonic() < deadline:
            if not signed_in:
                signed_in = self.sign_in()
                if not signed_in:
                    time.sleep(0.2)
                    continue
            if self.kind == "c" and self.random.random() < 0.15:
                signed_in = self.new_request()
            else:
                signed_in = self.note()

    # -- a form on a page
    def form(self, path: str, form_name: str | None) -> tuple[dict, str] | None:
        """The fields of a form on a page; None when the page did not come (see `signed_out`)."""
        answer = self.request("GET", self.url(path))
        self.signed_out = answer is not None and answer.status in (400, 401)
        if answer is None or answer.status != 200:
            return None
        text = answer.text
        if form_name:
            start = text.find(f'name="form_name" value="{form_name}"')
            text = text[text.rfind("<form", 0, start):text.find("</form>", start)]
        fields = {}
        for match in _FIELD.finditer(text):
            name = match.group(1) or match.group(4)
            fields[name] = unescape(match.group(2) if match.group(1) else match.group(3))
        return fields, text

    def send(self, entry: Entry, path: str, data: dict) -> str:
        """POST the form (sometimes twice at once, sometimes again after the answer)."""
        roll = self.random.random()
        if roll < 0.1:  # double click: two at once
            results: list = [None, None]

            def click(i: int) -> None:
                time.sleep(0.01 * i)  # the second click comes a moment later; its answer shows
                results[i] = self.request("POST", self.url(path), data=data)

            threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            answer = results[1] or results[0]
        else:
            answer = self.request("POST", self.url(path), data=data)
        told = outcome_of(answer)
        if os.environ.get("SOAK_DEBUG") and answer is not None:
            entry.trail.append(f"{answer.first_status}->{answer.status} {answer.url}")
        if told == "asked":  # the same text again: cannot happen, markers are unique
            told = "other"
        if told == "other" and os.environ.get("SOAK_DEBUG"):
            page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text))
            print("OTHER", answer.first_status, answer.status, page[:300], flush=True)
        entry.told.append(told)
        if roll > 0.9 and answer is not None:  # Back + Send of the same form
            entry.told.append(outcome_of(self.request("POST", self.url(path), data=data)))
        return entry.told[-1]

    def settle(self, entry: Entry, path: str, form_name: str | None, data: dict,
               depth: int = 0) -> bool:
        """After anything but "sent": come back to the page as a user would and finish."""
        for _ in range(4):
            told = entry.told[-1]
            if told == "sent":
                return True
            if told == "none":  # no answer at all: press Send again (same form, same key)
                self.send(entry, path, data)
                continue
            if (told == "ended" or self.signed_out) and not self.sign_in():
                return False
            entry.kept = entry.kept or told in ("kept", "unknown", "ended")
            found = self.form(path, form_name)
            if found is None:
                entry.told.append("none")
                continue
            fields, text = found
            other = self.restored(text)
            if other is not None and other is not entry and depth < 3:
                # The newest kept draft is shown first: that one is sent, then ours comes back.
                self.finish_restored(other, path, form_name, fields, _words(other), depth + 1)
                continue
            if entry.marker not in text:
                entry.restore_failed = entry.kept and told != "ended"
                return True  # nothing restored (it may have landed; the tally decides)
            entry.restored = True
            data = {**data, **fields}
            self.send(entry, path, data)
        return True

    def restored(self, text: str) -> Entry | None:
        """The ledger entry of a draft the page gave back (this user's, perhaps written in
        another of their sessions), if any."""
        textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", text, re.S)
        field_value = re.search(r'name="summary"[^>]*value="([^"]*)"', text)
        shown = (textarea.group(1) if textarea else "") + (field_value.group(1) if field_value else "")
        marker = re.search(r"soak-[0-9a-f]{32}", shown)
        return self.soak.ledger.entries.get(marker.group(0)) if marker else None

    def finish_restored(self, entry: Entry, path: str, form_name: str | None, fields: dict,
                        data: dict, depth: int = 0) -> bool:
        """As a person would: a kept draft on the page is sent before anything new is written."""
        entry.restored = True
        self.send(entry, path, {**fields, **data})
        return self.settle(entry, path, form_name, {**fields, **data}, depth)

    def note(self) -> bool:
        ticket_id = self.random.choice(self.tickets)
        path, form_name = f"/{self.app}/tickets/{ticket_id}", ("note" if self.kind == "m" else None)
        found = self.form(path, form_name)
        if found is None:
            return not self.signed_out
        fields, text = found
        kept = self.restored(text)
        if kept is not None:
            return self.finish_restored(kept, path, form_name, fields, _words(kept))
        entry = self.soak.ledger.add(Entry(f"soak-{uuid.uuid4().hex}", "note", ticket_id))
        data = {**fields, **_words(entry)}
        self.send(entry, path, data)
        return self.settle(entry, path, form_name, data)

    def new_request(self) -> bool:
        found = self.form("/portal/new", None)
        if found is None:
            return not self.signed_out
        fields, text = found
        kept = self.restored(text)
        if kept is not None:
            return self.finish_restored(kept, "/portal/new", None, fields, _words(kept))
        entry = self.soak.ledger.add(Entry(f"soak-{uuid.uuid4().hex}", "request", None))
        data = {**fields, **_words(entry)}
        self.send(entry, "/portal/new", data)
        return self.settle(entry, "/portal/new", None, data)


def _words(entry: Entry) -> dict:
    """What the user writes for a marked note or request (the same every time it is sent)."""
    if entry.kind == "note":
        return {"note": f"Note {entry.marker}", "visibility": "internal"}
    return {"summary": f"Request {entry.marker}", "request_type": "1"}


# ---- the run -----------------------------------------------------------------------------------
@dataclass
class Report:
    """The figures the soak prints."""

    attempted: int
    confirmed_once: int
    lost: int
    doubled: int
    kept_restored: int
    restore_failed: int
    waiting: int
    ambiguous: int
    told_wrong: int
    pages: int
    server_errors: int
    unhandled: int
    no_answer: int
    p50_ms: float
    p95_ms: float

    def lines(self) -> list[str]:
        return [
            f"attempted            {self.attempted}",
            f"confirmed, once      {self.confirmed_once}",
            f"lost                 {self.lost}",
            f"doubled              {self.doubled}",
            f"kept, restored       {self.kept_restored}  (still kept as a draft: {self.waiting}; "
            f"kept but not restorable: {self.restore_failed})",
            f"ambiguous            {self.ambiguous}",
            f"told wrongly         {self.told_wrong}  (told not sent, yet it landed)",
            f"pages                {self.pages}",
            f"5xx pages            {self.server_errors}  (unhandled 500: {self.unhandled}; no answer: {self.no_answer})",
            f"latency p50 / p95    {self.p50_ms:.0f} ms / {self.p95_ms:.0f} ms",
        ]


class Soak:
    """The sandbox, the site under gunicorn, and the users, for a bounded time."""

    def __init__(self, *, users: int, seconds: float, workers: int = 3, redis: bool = False,
                 error_rate: float = 0.05, spike_rate: float = 0.03, read_timeout: float = 2.0,
                 seed: int = 11, code: Path = ROOT) -> None:
        self.code = code
        self.users, self.seconds, self.seed = users, seconds, seed
        self.sandbox_thread = ServerThread("localhost", 0)
        self.sandbox_url = f"http://localhost:{self.sandbox_thread.port}"
        self.sandbox = create_sandbox(seed=seed)
        self.sandbox_thread.attach(self.sandbox)
        faults = self.sandbox.extensions["sandbox"]["faults"]
        faults.set(error_rate=error_rate, kinds=("500", "503"))
        faults.set_spikes(spike_rate, read_timeout + 0.5)
        self.tokens = self.sandbox.extensions["sandbox"]["tokens"]
        self.desk = self.sandbox.extensions["sandbox"]["desk"]
        self.redis = RedisServer().start() if redis else None
        self.ledger = Ledger()
        self.workers, self.read_timeout = workers, read_timeout
        self.site: Site | None = None

    def run(self) -> Report:
        self.sandbox_thread.start()
        self.site = Site(self.sandbox_url, workers=self.workers,
                         redis_url=self.redis.url if self.redis else None,
                         read_timeout=self.read_timeout, code=self.code)
        try:
            people = self._users()
            deadline = time.monotonic() + self.seconds
            threads = [threading.Thread(target=u.run, args=(deadline,), daemon=True) for u in people]
            for thread in threads:
                thread.start()
            self._disturb(deadline)
            for thread in threads:
                thread.join(timeout=self.seconds + 120)
            return self.tally()
        finally:
            self.site.close()
            self.sandbox_thread.stop()
            if self.redis:
                self.redis.close()

    def _users(self) -> list[User]:
        rng = random.Random(self.seed)
        with self.desk.lock:
            contacts = {}
            for ticket in self.desk.tickets.values():
                contacts.setdefault(ticket["contactId"], []).append(ticket["id"])
            every_ticket = list(self.desk.tickets)
            agents = list(self.desk.agents)
        contact_ids = sorted(contacts)
        people = []
        for number in range(self.users):
            cookies = number % 4 != 3  # every fourth user's browser blocks even partitioned cookies
            if number % 3 == 2:
                people.append(User(self, "m", agents[number % len(agents)], every_ticket, cookies,
                                   rng.randrange(1 << 30)))
            else:
                contact = contact_ids[number % len(contact_ids)]
                people.append(User(self, "c", contact, contacts[contact], cookies,
                                   rng.randrange(1 << 30)))
        return people

    def _disturb(self, deadline: float) -> None:
        """One worker killed a third of the way in; Redis restarted at two thirds."""
        start = time.monotonic()
        span = deadline - start
        time.sleep(span / 3)
        self.site.kill_a_worker()
        if self.redis:
            time.sleep(max(0.0, start + 2 * span / 3 - time.monotonic()))
            self.redis.restart(3)

    def tally(self) -> Report:
        with self.desk.lock:
            texts = [note["note"] for t in self.desk.tickets.values() for note in t["notes"]]
            texts += [t["summary"] for t in self.desk.tickets.values()]
        landed: dict[str, int] = {}
        for text in texts:
            for marker in re.findall(r"soak-[0-9a-f]{32}", text):
                landed[marker] = landed.get(marker, 0) + 1
        self.troubles = []
        counts = dict.fromkeys(("confirmed", "lost", "doubled", "restored", "restore_failed",
                                "waiting", "ambiguous", "wrong"), 0)
        for entry in self.ledger.entries.values():
            times, last = landed.get(entry.marker, 0), entry.told[-1] if entry.told else "none"
            if times > 1 or (times == 1 and last == "kept") or (times == 0 and last == "sent") \
                    or (times == 0 and entry.restore_failed):
                self.troubles.append(f"{entry.kind} {entry.marker} landed {times}x, told {entry.told} "
                                     f"{entry.ticket_id} {entry.trail}")
            if times > 1:
                counts["doubled"] += 1
            elif times == 1 and last == "sent":
                counts["restored" if entry.restored else "confirmed"] += 1
            elif times == 1 and last == "kept":
                counts["wrong"] += 1
            elif times == 0 and (last == "sent" or entry.restore_failed):
                counts["lost"] += 1
                counts["restore_failed"] += entry.restore_failed
            elif times == 0 and last in ("kept", "ended"):
                counts["waiting"] += 1  # still a draft, restorable when the user comes back
            else:
                counts["ambiguous"] += 1
        latencies = sorted(self.ledger.latencies) or [0.0]
        statuses = self.ledger.statuses
        return Report(
            attempted=len(self.ledger.entries), confirmed_once=counts["confirmed"],
            lost=counts["lost"], doubled=counts["doubled"], kept_restored=counts["restored"],
            restore_failed=counts["restore_failed"], waiting=counts["waiting"],
            ambiguous=counts["ambiguous"],
            told_wrong=counts["wrong"], pages=len(statuses),
            server_errors=sum(s >= 500 for s in statuses),
            unhandled=sum(s == 500 for s in statuses), no_answer=self.ledger.no_answer,
            p50_ms=statistics.median(latencies) * 1000,
            p95_ms=latencies[int(len(latencies) * 0.95) - 1 if len(latencies) > 1 else 0] * 1000)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--redis", action="store_true", help="sessions in Redis, restarted mid-run")
    parser.add_argument("--error-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="run the ddsite in this folder (to measure another checkout)")
    parser.add_argument("--explain", action="store_true", help="list every doubled or lost marker")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandbox's access log
    print(f"soak: {args.users} users, {args.seconds:.0f} s, {args.workers} workers, "
          f"{'Redis' if args.redis else 'file'} store, {args.error_rate:.0%} upstream 500/503",
          flush=True)
    soak = Soak(users=args.users, seconds=args.seconds, workers=args.workers, redis=args.redis,
                error_rate=args.error_rate, seed=args.seed, code=args.code)
    report = soak.run()
    print("\n".join(report.lines()))
    if args.explain:
        print("\n".join(soak.troubles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
