"""The page-extension point: a throwaway page from a package (entry point) and from DDSITE_PAGES."""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from pathlib import Path

import pytest
import responses

from ddsite import create_app
from ddsite.cli import main
from ddsite.pages import PageRefused

from .conftest import AGENT, CONTACT, HOST, LeakCheckingClient, make_token, sign_in

API = HOST + "/api/v4/tech"

GUIDE = Path(__file__).resolve().parents[1] / "ddsite" / "pages" / "README.md"
# The guide's own example page is the throwaway page: an agent logs a site visit as an internal
# note, once, with a draft kept when the session ends meanwhile.
PAGE_SOURCE = re.search(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S).group(1)
TEMPLATE = re.search(r"```html\+jinja\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S).group(1)


def write_page(folder, source: str = PAGE_SOURCE, *, template: bool = True) -> str:
    """A page module with a name of its own in `folder`; returns the module name."""
    name = f"throwaway_page_{uuid.uuid4().hex[:10]}"
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    if template:
        (folder / "templates").mkdir(exist_ok=True)
        (folder / "templates" / "site_visits.html").write_text(TEMPLATE, encoding="utf-8")
    return name


def write_distribution(folder, entries: dict[str, str], name: str = "throwaway-pages") -> None:
    """Installed-package metadata (a .dist-info) declaring `ddsite.pages` entry points."""
    info = folder / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
                                   encoding="utf-8")
    lines = "".join(f"{key} = {value}\n" for key, value in entries.items())
    (info / "entry_points.txt").write_text(f"[ddsite.pages]\n{lines}", encoding="utf-8")


@pytest.fixture
def page_folder(tmp_path, monkeypatch):
    """A folder on sys.path for this test only; the modules imported from it are forgotten after."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("throwaway_page_"):
            del sys.modules[name]


def build(config, **extra):
    app = create_app({**config, **extra})
    app.test_client_class = LeakCheckingClient
    return app


@pytest.fixture(params=["entry point", "setting"])
def page_app(request, config, page_folder):
    """The app with the throwaway page registered one way or the other."""
    module = write_page(page_folder)
    if request.param == "entry point":
        write_distribution(page_folder, {"site_visits": module})
        app = build(config)
    else:
        app = build(config, PAGES=[module])
    yield app
    app.extensions["ddsite"].close()


def test_the_page_is_registered_with_its_navigation_beside_the_stock_pages(page_app, dd):
    client = page_app.test_client()
    sign_in(client, dd, "tech", path="/tech/visits/")
    page = client.get("/tech/visits/").get_data(as_text=True)
    assert "<h1>Log a site visit, Sam Agent</h1>" in page
    assert 'href="/tech/visits/" aria-current="page">Site visits</a>' in page
    assert 'href="/tech/queue">Queue</a>' in page and 'rel="stylesheet"' in page
    home = client.get("/tech/").get_data(as_text=True)
    assert 'href="/tech/visits/">Site visits</a>' in home


def test_the_page_is_guarded_for_its_audience(page_app, dd):
    client = page_app.test_client()
    nobody = client.get("/tech/visits/")
    assert nobody.status_code == 400 and "Open this page from DeskDirector" in nobody.get_data(as_text=True)
    sign_in(client, dd, "portal", user=CONTACT)
    contact = client.get("/tech/visits/")
    assert contact.status_code == 403 and "for agents" in contact.get_data(as_text=True)
    assert "Site visits" not in client.get("/portal/").get_data(as_text=True)


def test_the_page_posts_once_with_csrf(page_app, dd):
    client = page_app.test_client()
    sign_in(client, dd, "tech")
    forged = client.post("/tech/visits/", data={"note": "Hi", "form_key": "k"})
    assert forged.status_code == 400 and "The form could not be sent" in forged.get_data(as_text=True)
    fields = _fields(client.get("/tech/visits/").get_data(as_text=True))
    dd.add(responses.POST, API + "/tickets/1005/notes", json={"id": 9}, status=201)
    sent = client.post("/tech/visits/", data={**fields, "ticket": "1005", "note": "Swapped the PSU"})
    assert sent.status_code == 303
    assert "The visit was logged on #1005." in client.get(sent.headers["Location"]).get_data(as_text=True)
    again = client.post("/tech/visits/", data={**fields, "ticket": "1005", "note": "Swapped the PSU"})
    assert again.status_code == 303
    assert [c.request.body for c in dd.calls if c.request.method == "POST"] == [b'{"note": "Site visit: Swapped the PSU", "isInternal": true}']


def test_a_late_post_is_kept_as_a_draft_and_offered_back(page_app, dd, monkeypatch):
    client = page_app.test_client()
    sign_in(client, dd, "tech", expires_in=60)
    fields = _fields(client.get("/tech/visits/").get_data(as_text=True))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    late = client.post("/tech/visits/", data={**fields, "ticket": "1005", "note": "Written over lunch"})
    assert late.status_code == 401 and "has been kept" in late.get_data(as_text=True)
    sign_in(client, dd, "tech", user=AGENT)
    restored = client.get("/tech/visits/").get_data(as_text=True)
    assert "Written over lunch</textarea>" in restored and "Discard draft" in restored
    assert not any(c.request.method == "POST" for c in dd.calls)


def test_without_cookies_the_page_and_its_links_carry_the_session_handle(page_app, dd):
    cookieless = page_app.test_client(use_cookies=False)
    dd.add(responses.GET, HOST + "/api/v2/user/member", json=AGENT)
    token = make_token(AGENT["id"])
    location = cookieless.get(f"/tech/visits/?access_token={token}&host={HOST}").headers["Location"]
    handle = location.split("ddsid=")[1]
    page = cookieless.get(location).get_data(as_text=True)
    assert "<h1>Log a site visit, Sam Agent</h1>" in page
    assert f'href="/tech/visits/?ddsid={handle}" aria-current="page">Site visits</a>' in page
    assert f'href="/tech/queue?ddsid={handle}">Queue</a>' in page


def _fields(page: str) -> dict:
    def value(name):
        return page.split(f'name="{name}"')[1].split('value="')[1].split('"')[0]
    return {"csrf_token": value("csrf_token"), "form_key": value("form_key")}


# ---- refusals at start-up ------------------------------------------------------------------

def refusal(config, **extra) -> str:
    with pytest.raises(PageRefused) as caught:
        create_app({**config, **extra})
    return str(caught.value)


def test_a_wrong_audience_stops_start_up(config, page_folder):
    module = write_page(page_folder, PAGE_SOURCE.replace('audience="tech"', 'audience="agents"'))
    message = refusal(config, PAGES=[module])
    assert message.startswith(f"DDSITE_PAGES: {module}: page 'site_visits': audience 'agents' is not one of")
    assert "'portal' (contacts" in message and "'tech' (agents" in message


def test_a_route_collision_stops_start_up(config, page_folder):
    source = PAGE_SOURCE.replace('url_prefix="/tech/visits"', 'url_prefix="/tech"').replace(
        '@bp.route("/"', '@bp.route("/queue"')
    module = write_page(page_folder, source)
    message = refusal(config, PAGES=[module])
    assert "route /tech/queue collides with /tech/queue of tech.queue" in message
    assert "give the page another URL prefix" in message


def test_a_taken_name_and_a_prefix_outside_the_audience_stop_start_up(config, page_folder):
    taken = write_page(page_folder, PAGE_SOURCE.replace('"site_visits", __name__', '"tech", __name__'))
    assert "the name 'tech' is taken by another page" in refusal(config, PAGES=[taken])
    outside = write_page(page_folder, PAGE_SOURCE.replace('url_prefix="/tech/visits"', 'url_prefix="/greet"'))
    assert "URL prefix '/greet' must be /tech or below it" in refusal(config, PAGES=[outside])


def test_import_failures_stop_start_up_naming_the_module(config, page_folder):
    assert refusal(config, PAGES=["no_such_page_module"]) == (
        "DDSITE_PAGES: no_such_page_module: cannot import 'no_such_page_module': "
        "ModuleNotFoundError: No module named 'no_such_page_module'")
    broken = write_page(page_folder, "import flask\nraise RuntimeError('the billing API key is missing')\n")
    assert "RuntimeError: the billing API key is missing" in refusal(config, PAGES=[broken])
    empty = write_page(page_folder, "VALUE = 1\n")
    assert f"DDSITE_PAGES: {empty}: defines no page" in refusal(config, PAGES=[empty])


def test_an_entry_point_that_fails_to_import_names_its_package(config, page_folder):
    write_distribution(page_folder, {"billing": "missing_billing_module"}, name="acme-billing")
    message = refusal(config)
    assert message.startswith("entry point 'billing' = missing_billing_module of package acme-billing 1.0")
    assert "ModuleNotFoundError: No module named 'missing_billing_module'" in message


def test_ddsite_check_prints_the_refusal_without_a_traceback(config, page_folder, monkeypatch, capsys):
    for name in list(os.environ):
        if name.startswith("DDSITE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DDSITE_DESKDIRECTOR_HOSTS", HOST)
    monkeypatch.setenv("DDSITE_SECRET_KEY", "s")
    monkeypatch.setenv("DDSITE_SESSION_DIR", config["SESSION_DIR"])
    monkeypatch.setenv("DDSITE_PAGES", "no_such_page_module")
    assert main(["check"]) == 2
    error = capsys.readouterr().err
    assert "configuration error: DDSITE_PAGES: no_such_page_module: cannot import" in error
    assert "Traceback" not in error
