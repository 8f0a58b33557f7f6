"""The client's faces: one per audience, speaking models; wire names stay inside deskdirector/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import responses

from ddsite.deskdirector.client import Client
from ddsite.deskdirector.endpoints import DEFAULT_ENDPOINTS
from ddsite.deskdirector.errors import Invalid
from ddsite.deskdirector.faces import PortalFace, TechFace

from .conftest import HOST, make_token

TECH = HOST + "/api/v4/tech"
PORTAL = HOST + "/api/v4/portal"
PACKAGE = Path(__file__).resolve().parent.parent / "ddsite"


@pytest.fixture
def api(transport):
    return Client(transport, DEFAULT_ENDPOINTS, HOST, make_token("acme~m~2"))


def _bodies(dd) -> list:
    return [json.loads(call.request.body) for call in dd.calls]


def test_each_audience_has_its_face(api):
    assert isinstance(api.portal, PortalFace) and isinstance(api.tech, TechFace)
    assert api.face("portal") is api.portal and api.face("tech") is api.tech
    with pytest.raises(ValueError, match="no DeskDirector face"):
        api.face("admin")


def test_update_sends_a_merge_patch_of_only_what_is_given(api, dd):
    for _ in range(3):
        dd.add(responses.PATCH, TECH + "/tickets/5", json={"id": 5})
    api.tech.update_ticket(5, status=2)
    api.tech.update_ticket(5, priority=None, assignees=[])
    api.tech.update_ticket(5, priority=3, assignees=[7, 8])
    assert _bodies(dd) == [{"status": {"id": 2}},
                           {"priority": None, "assignedAgents": []},
                           {"priority": {"id": 3}, "assignedAgents": [{"id": 7}, {"id": 8}]}]


def test_an_update_without_changes_is_refused_before_any_call(api, dd):
    with pytest.raises(ValueError, match="at least one field"):
        api.tech.update_ticket(5)
    assert not dd.calls


def test_update_field_errors_come_back_under_the_argument_names(api, dd):
    dd.add(responses.PATCH, TECH + "/tickets/5", status=422,
           json={"errors": {"AssignedAgents": ["Agent 9 is away."], "status": ["Closed."]}})
    with pytest.raises(Invalid) as caught:
        api.tech.update_ticket(5, status=6, assignees=[9])
    assert caught.value.field_errors == {"assignees": ["Agent 9 is away."], "status": ["Closed."]}


def test_new_request_body_and_field_errors(api, dd):
    dd.add(responses.POST, PORTAL + "/tickets", status=422,
           json={"errors": [{"field": "RequestType", "message": "Pick one."}]})
    with pytest.raises(Invalid) as caught:
        api.portal.create_ticket(summary="Laptop", description="", request_type=4, priority=2)
    assert caught.value.field_errors == {"request_type": ["Pick one."]}
    assert _bodies(dd) == [{"summary": "Laptop", "description": "",
                            "requestType": {"id": 4}, "priority": {"id": 2}}]


def test_a_note_comes_back_as_a_model(api, dd):
    dd.add(responses.POST, PORTAL + "/tickets/5/notes", status=201,
           json={"id": 77, "note": "Thanks", "isInternal": False})
    dd.add(responses.POST, TECH + "/tickets/5/notes", status=204)
    note = api.portal.add_note(5, "Thanks")
    assert note.id == 77 and note.text == "Thanks" and not note.is_internal
    assert api.tech.add_note(5, "Checked", internal=True) is None
    assert _bodies(dd) == [{"note": "Thanks"}, {"note": "Checked", "isInternal": True}]


@pytest.mark.parametrize("call, words", [
    (lambda api: api.tech.tickets(status="pending"), "status must be one of"),
    (lambda api: api.tech.tickets(assigned="them"), "assigned must be one of"),
    (lambda api: api.portal.tickets(sort="size"), "sort must be one of"),
])
def test_list_words_outside_the_vocabulary_are_refused(api, dd, call, words):
    with pytest.raises(ValueError, match=words):
        call(api)
    assert not dd.calls


# Names only DeskDirector uses; finding one outside deskdirector/ means a wire shape leaked.
WIRE_NAMES = re.compile(r"assignedAgents|requestType|isInternal|orderBy|notePreview|"
                        r"modifiedOn|\"/api/|\.call\(")
AUDIENCE_CALL = re.compile(r"""\.(tickets|ticket|add_note|me|lookup)\(\s*["'](portal|tech)["']""")


def test_no_wire_name_outside_the_deskdirector_package():
    leaks = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(("deskdirector/", "sandbox/")):
            continue  # the wire layer itself, and the stand-in that speaks the wire
        text = path.read_text(encoding="utf-8")
        leaks += [f"{relative}: {m.group(0)}" for m in WIRE_NAMES.finditer(text)]
        leaks += [f"{relative}: {m.group(0)}" for m in AUDIENCE_CALL.finditer(text)]
    assert leaks == []
