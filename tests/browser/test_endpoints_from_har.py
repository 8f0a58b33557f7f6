"""`ddsite endpoints from-har` on HAR files Chromium records from real sandbox traffic.

The browser plays DeskDirector's own portal or TECH: on the sandbox's origin it calls the API with
the user's token (who-am-I, the list, a ticket, the look-ups, a reply, for agents an update), the
way DeskDirector's single-page apps do, while Playwright records a HAR 1.2. The sandbox speaks v2
or v4, at its own paths or moved ones; the file learned from a HAR must make ddsite's pages work.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from ddsite.cli import main
from ddsite.demo import Demo, ServerThread
from ddsite.deskdirector.endpoints import DIALECTS, Endpoint
from ddsite.sandbox import create_sandbox

from .conftest import site_frame

COOKIE_SECRET = "cookie-secret-4f1d9a"
# The sandbox's API somewhere else entirely, with other words for tickets, notes and look-ups.
MOVED_PATHS = {
    "public_keys": "/api/helpdesk/signing-keys",
    "portal.me": "/api/helpdesk/me/contact",
    "portal.tickets": "/api/helpdesk/client/requests",
    "portal.ticket": "/api/helpdesk/client/requests/{ticket_id}",
    "portal.add_note": "/api/helpdesk/client/requests/{ticket_id}/replies",
    "portal.create_ticket": "/api/helpdesk/client/requests",
    "portal.request_types": "/api/helpdesk/client/service-types",
    "portal.priorities": "/api/helpdesk/client/priority-levels",
    "tech.me": "/api/helpdesk/me/agent",
    "tech.tickets": "/api/helpdesk/desk/work",
    "tech.ticket": "/api/helpdesk/desk/work/{ticket_id}",
    "tech.update_ticket": "/api/helpdesk/desk/work/{ticket_id}",
    "tech.add_note": "/api/helpdesk/desk/work/{ticket_id}/comments",
    "tech.statuses": "/api/helpdesk/desk/ticket-statuses?queue={queue_id}",
    "tech.priorities": "/api/helpdesk/desk/priorities",
    "tech.agents": "/api/helpdesk/desk/members",
}
SANDBOXES = {  # name → (dialect the sandbox speaks, the table it serves)
    "v2": ("v2", DIALECTS["v2"]),
    "v4": ("v4", DIALECTS["v4"]),
    "v4-moved": ("v4", {name: Endpoint(DIALECTS["v4"][name].method, path, "v4")
                        for name, path in MOVED_PATHS.items()}),
}

# What DeskDirector's own app does in the browser: its API calls, with the token in a header.
_CLICK_THROUGH = r"""
async ({token, paths, audience, dialect}) => {
  const auth = {Authorization: "DdAccessToken " + token, Accept: "application/json"};
  const send = {...auth, "Content-Type": "application/json"};
  // Bodies are read, as the app reads them (Chromium records a body only once it is read).
  const call = async (path, options) => (await fetch(path, options)).text();
  const get = async (path) => JSON.parse(await call(path, {headers: auth}));
  const rowsOf = (reply) => Array.isArray(reply) ? reply : reply.results;
  const values = {skip: 0, take: 20, sort: "activity"};
  const path = (name) => paths[audience + "." + name]
    .replace(/\{(\w+)\}/g, (_, key) => values[key]);
  await get(path("me"));
  const rows = rowsOf(await get(path("tickets") + (path("tickets").includes("?") ? "&" : "?")
                                + "status=open"));
  values.ticket_id = rows[0].id;
  const ticket = await get(path("ticket"));
  values.queue_id = ticket.queue ? ticket.queue.id : "";
  const lookups = audience === "portal" ? ["request_types", "priorities"]
                                       : ["statuses", "priorities", "agents"];
  const got = {};
  for (const name of lookups) got[name] = rowsOf(await get(path(name)));
  const note = dialect === "v4" ? {comment: "Recorded reply", isPublic: true}
                                : {note: "Recorded reply"};
  await call(path("add_note"), {method: "POST", headers: send, body: JSON.stringify(note)});
  if (audience === "tech") {
    await call(path("update_ticket"), {method: "PATCH", headers: send,
                                       body: JSON.stringify({status: {id: got.statuses[1].id}})});
  }
  await call(paths.public_keys);
  await call("/sandbox/faults");  // DeskDirector's pages call other things too
  await call(path("tickets").split("?")[0] + "?access_token=" + token);  // a token in a query
}
"""


def record_har(browser, sandbox_name: str, audience: str, har_path) -> str:
    """Click through one of SANDBOXES as `audience`, recording a HAR; returns the token."""
    dialect, table = SANDBOXES[sandbox_name]
    sandbox = create_sandbox(dialect=dialect, endpoints=table)
    server = ServerThread("localhost", 0, sandbox).start()
    url = f"http://localhost:{server.port}"
    token = sandbox.extensions["sandbox"]["tokens"].mint("c" if audience == "portal" else "m",
                                                         101 if audience == "portal" else 201)
    context = browser.new_context(record_har_path=str(har_path), record_har_content="embed")
    try:
        context.add_cookies([{"name": "dd_session", "value": COOKIE_SECRET, "url": url}])
        page = context.new_page()
        page.goto(f"{url}/{audience}/")  # the shell: a page on the instance's own origin
        page.evaluate(_CLICK_THROUGH, {"token": token, "audience": audience, "dialect": dialect,
                                       "paths": {name: ep.path for name, ep in table.items()}})
    finally:
        context.close()  # writes the HAR
        server.stop()
    return token


@pytest.fixture(scope="module")
def hars(browser, tmp_path_factory):
    """One recording per (paths, audience), made once for the module: {key: (har path, token)}."""
    folder = tmp_path_factory.mktemp("hars")
    recorded = {}
    for name in SANDBOXES:
        for audience in ("portal", "tech"):
            har = folder / f"{name}-{audience}.har"
            recorded[name, audience] = har, record_har(browser, name, audience, har)
    return recorded


def from_har(har_path, output, capsys, *extra) -> tuple[int, str]:
    """Run `ddsite endpoints from-har`; (exit code, everything it printed)."""
    code = main(["endpoints", "from-har", str(har_path), "-o", str(output), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("audience", ["portal", "tech"])
@pytest.mark.parametrize("sandbox", list(SANDBOXES))
def test_har_from_sandbox_traffic_gives_the_table_it_was_recorded_from(hars, tmp_path, capsys,
                                                                       audience, sandbox):
    dialect, table = SANDBOXES[sandbox]
    har, token = hars[sandbox, audience]
    recorded = json.loads(har.read_text())
    assert recorded["log"]["version"] == "1.2"
    assert any(h["name"].lower() == "authorization" for e in recorded["log"]["entries"]
               for h in e["request"]["headers"])  # the HAR really holds the secrets

    output = tmp_path / "endpoints.json"
    code, report = from_har(har, output, capsys)
    assert code == 0, report
    learned = json.loads(output.read_text())
    expected = {"dialect": dialect, **{name: f"{ep.method} {ep.path}" for name, ep in table.items()
                                       if name.startswith(audience) or name == "public_keys"}}
    expected.pop("portal.create_ticket", None)  # not clicked: reported as missing
    assert learned == expected
    assert "portal.create_ticket" in report if audience == "portal" else True
    assert "Not recognised: GET /sandbox/faults" in report
    for secret in (token, COOKIE_SECRET, "DdAccessToken"):
        assert secret not in report and secret not in output.read_text()


def test_pages_work_with_the_learned_file_against_moved_paths(hars, page, tmp_path, capsys):
    combined = tmp_path / "endpoints.json"
    assert from_har(hars["v4-moved", "portal"][0], combined, capsys)[0] == 0
    code, text = from_har(hars["v4-moved", "tech"][0], combined, capsys)
    assert code == 2 and "add --update to add to it" in text and "portal.ticket" in \
        combined.read_text()
    assert from_har(hars["v4-moved", "tech"][0], combined, capsys, "--update")[0] == 0
    learned = json.loads(combined.read_text())
    assert {"portal.ticket", "tech.ticket", "public_keys"} <= set(learned)
    # a recording of another dialect does not mix into the file
    code, text = from_har(hars["v2", "tech"][0], combined, capsys, "--update")
    assert code == 1 and "one instance speaks one dialect" in text
    assert json.loads(combined.read_text()) == learned
    demo = Demo(dialect="v4", sandbox_options={"endpoints": SANDBOXES["v4-moved"][1]},
                site_overrides={"ENDPOINTS_FILE": str(combined)}).start()
    try:
        page.goto(f"{demo.sandbox_url}/portal/")
        frame = site_frame(page)
        frame.get_by_role("link", name="My tickets", exact=True).click()
        expect(frame.locator("table.tickets tbody tr").first).to_be_visible()
        frame.locator("table.tickets tbody tr a").first.click()
        expect(frame.get_by_role("button", name="Send reply")).to_be_visible()

        page.goto(f"{demo.sandbox_url}/tech/")
        frame = site_frame(page)
        frame.get_by_role("link", name="Queue", exact=True).click()
        frame.locator("table.tickets tbody tr a").first.click()
        status = frame.get_by_label("Status", exact=True)  # not the composer's "Status to set"
        expect(status).to_be_visible()
        current = status.locator("option:checked").inner_text().strip()
        status.select_option(label="Scheduled" if current != "Scheduled" else "In progress")
        frame.get_by_role("button", name="Update", exact=True).click()
        expect(frame.get_by_text("The ticket was updated.")).to_be_visible()
    finally:
        demo.stop()


def test_useless_hars_get_a_clear_message_and_no_file(hars, tmp_path, capsys):
    recorded = json.loads(hars["v2", "portal"][0].read_text())
    output = tmp_path / "endpoints.json"

    sanitised = tmp_path / "sanitised.har"  # saved without response bodies
    for entry in recorded["log"]["entries"]:
        entry["response"]["content"].pop("text", None)
    sanitised.write_text(json.dumps(recorded))
    code, text = from_har(sanitised, output, capsys)
    assert code == 1 and "holds no JSON replies" in text

    empty = tmp_path / "empty.har"
    empty.write_text(json.dumps({"log": {**recorded["log"], "entries": []}}))
    assert "holds no recorded calls" in from_har(empty, output, capsys)[1]

    not_json = tmp_path / "page.har"
    not_json.write_text("<html>not a har</html>")
    assert "this is not a HAR file" in from_har(not_json, output, capsys)[1]
    assert not output.exists()
    assert "Traceback" not in capsys.readouterr().err


def test_bodies_saved_as_base64_are_read_too(hars, tmp_path, capsys):
    """Developer tools save some bodies base64-encoded (`content.encoding`); same result."""
    import base64

    har, _ = hars["v4", "tech"]
    plain = tmp_path / "plain.json"
    assert from_har(har, plain, capsys)[0] == 0
    recorded = json.loads(har.read_text())
    for entry in recorded["log"]["entries"]:
        content = entry["response"]["content"]
        if content.get("text"):
            content["text"] = base64.b64encode(content["text"].encode()).decode()
            content["encoding"] = "base64"
    encoded = tmp_path / "encoded.har"
    encoded.write_text(json.dumps(recorded))
    output = tmp_path / "encoded.json"
    assert from_har(encoded, output, capsys)[0] == 0
    assert output.read_text() == plain.read_text()
