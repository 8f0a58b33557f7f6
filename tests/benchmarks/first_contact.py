"""Measure: ddsite's pages against a sandbox speaking the other (v4) dialect; prints figures.

Run: .venv/bin/python tests/benchmarks/first_contact.py [--endpoints FILE]
The sandbox speaks v4 (moved paths, comments, string ids, statuses per queue, no server paging).
ddsite is told about it as an operator would: with DDSITE_ENDPOINTS_FILE (default here:
{"dialect": "v4"}; pass --endpoints for a file of plain path overrides instead). It prints what
a user sees: My tickets page 1 and 2, whether a ticket shows its messages, the agent ticket page's
status, and the PATCH body that pressing Update sends after choosing the ticket's own status.
Not part of the test suite: figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import re
import secrets
import tempfile
from pathlib import Path

import requests

from ddsite import create_app
from ddsite.demo import ServerThread
from ddsite.sandbox import create_sandbox


def _open(browser: requests.Session, site: str, sandbox_url: str, path: str, token: str) -> str:
    """Follow intake like the iframe does; return the URL handle to carry (no Secure cookie)."""
    landed = browser.get(f"{site}{path}?access_token={token}&host={sandbox_url}", timeout=30)
    return landed.url.split("ddsid=")[1].split("&")[0] if "ddsid=" in landed.url else ""


def _rows(page: str) -> list[str]:
    return re.findall(r"<td>#(\w+)</td>", page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", help="endpoints file for ddsite (default: dialect v4)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="ddsite-first-contact-"))
    sandbox_server, site_server = ServerThread("localhost"), ServerThread("127.0.0.1")
    sandbox_url = f"http://localhost:{sandbox_server.port}"
    site = f"http://127.0.0.1:{site_server.port}"
    sandbox = create_sandbox(site_url=site, dialect="v4")
    patches: list = []

    @sandbox.before_request
    def record_patches():
        from flask import request
        if request.method == "PATCH":
            patches.append(request.get_json(silent=True))

    endpoints = Path(args.endpoints) if args.endpoints else folder / "endpoints.json"
    if not args.endpoints:
        endpoints.write_text(json.dumps({"dialect": "v4"}))
    app = create_app({"SECRET_KEY": secrets.token_hex(16), "DESKDIRECTOR_HOSTS": [sandbox_url],
                      "SESSION_DIR": str(folder / "sessions"), "ENDPOINTS_FILE": str(endpoints),
                      "DEMO": True})
    sandbox_server.attach(sandbox)
    site_server.attach(app)
    sandbox_server.start()
    site_server.start()
    tokens = sandbox.extensions["sandbox"]["tokens"]
    desk = sandbox.extensions["sandbox"]["desk"]
    try:
        # The contact who sees the most tickets (a company manager).
        contact = max(desk.contacts, key=lambda c: sum(desk.visible_to_contact(c, t)
                                                        for t in desk.tickets.values()))
        visible = sum(desk.visible_to_contact(contact, t) for t in desk.tickets.values())
        browser = requests.Session()
        handle = _open(browser, site, sandbox_url, "/portal/", tokens.mint("c", contact))
        one = browser.get(f"{site}/portal/tickets?status=any&ddsid={handle}", timeout=30)
        two = browser.get(f"{site}/portal/tickets?status=any&page=2&ddsid={handle}", timeout=30)
        first, second = _rows(one.text), _rows(two.text)
        print(f"My tickets (contact sees {visible}, page size {app.config['PAGE_SIZE']}):")
        offered = 'rel="next"' in one.text
        print(f"  page 1: HTTP {one.status_code}, {len(first)} rows, next page offered: {offered}")
        print(f"  page 2: HTTP {two.status_code}, {len(second)} rows, "
              f"{len(set(first) & set(second))} of them also on page 1")
        ticket_id = next(int(t) for t in first) if first else min(desk.tickets)
        page = browser.get(f"{site}/portal/tickets/{ticket_id}?ddsid={handle}", timeout=30)
        public = [n for n in desk.tickets[ticket_id]["notes"] if not n["isInternal"]]
        print(f"Ticket #{ticket_id} ({len(public)} public messages): HTTP {page.status_code}, "
              f"shows 'No messages yet': {'No messages yet' in page.text}")

        agent_browser = requests.Session()
        handle = _open(agent_browser, site, sandbox_url, "/tech/", tokens.mint("m", 201))
        open_count = sum(not desk.status(t["statusId"])["isClosed"] for t in desk.tickets.values())
        one = agent_browser.get(f"{site}/tech/queue?view=open&ddsid={handle}", timeout=30)
        two = agent_browser.get(f"{site}/tech/queue?view=open&page=2&ddsid={handle}", timeout=30)
        first, second = _rows(one.text), _rows(two.text)
        print(f"Agent queue, all open ({open_count} open tickets):")
        print(f"  page 1: HTTP {one.status_code}, {len(first)} rows, next page offered: "
              f"{'rel=' + chr(34) + 'next' + chr(34) in one.text}")
        print(f"  page 2: HTTP {two.status_code}, {len(second)} rows, "
              f"{len(set(first) & set(second))} of them also on page 1")
        ticket = next(t for t in desk.tickets.values() if t["assignedAgentIds"]
                      and t["priorityId"] and not desk.status(t["statusId"])["isClosed"])
        url = f"{site}/tech/tickets/{ticket['id']}?ddsid={handle}"
        page = agent_browser.get(url, timeout=30)
        print(f"Agent ticket #{ticket['id']}: HTTP {page.status_code}"
              + (f" ({html.unescape(re.search(r'<h1[^>]*>(.*?)</h1>', page.text, re.S)[1])})"
                 if page.status_code != 200 else ""))
        if page.status_code == 200:
            form = page.text.split('value="update"')[0].rsplit("<form", 1)[1] + \
                page.text.split('value="update"')[1].split("</form>")[0]
            data = dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', form))
            data.update(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
            data["form_name"] = "update"
            selected = dict(re.findall(r'<select[^>]*name="(\w+)"[^>]*>(?:(?!</select>).)*?'
                                       r'<option selected value="([^"]*)"', form, re.S))
            checked = re.findall(r'checked[^>]*value="([^"]*)"|value="([^"]*)"[^>]*checked', form)
            print(f"  update form pre-selects: status={selected.get('status', '—')} "
                  f"priority={selected.get('priority', '—')} "
                  f"assignees={[a or b for a, b in checked] or '—'}")
            current = re.search(r'<option[^>]*value="(\d+)"[^>]*>' +
                                re.escape(desk.status(ticket["statusId"])["name"]), form)
            # The agent re-chooses the ticket's own status and presses Update, changing nothing.
            post = {**data, "status": current.group(1) if current else "",
                    "priority": selected.get("priority", ""),
                    "assignees": [a or b for a, b in checked]}
            sent = agent_browser.post(url, data=post, timeout=30, allow_redirects=False)
            print(f"  pressing Update without changing anything: HTTP {sent.status_code}, "
                  f"PATCH bodies sent: {json.dumps(patches) if patches else 'none'}")
            after = desk.tickets[ticket["id"]]
            print(f"  ticket afterwards: priority {after['priorityId']}, "
                  f"agents {after['assignedAgentIds']}")
    finally:
        site_server.stop()
        sandbox_server.stop()
        app.extensions["ddsite"].close()


if __name__ == "__main__":
    main()
