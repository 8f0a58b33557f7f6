"""A DeskDirector stand-in for the hostile-input suite: answers by the caller's token, so each user
sees only their own data, and can carry a payload in every text it returns."""

from __future__ import annotations

import json
import re

import jwt
import responses

from ..conftest import AGENT, CONTACT, HOST, ISSUED_TOKENS

# Someone else's data: it must never appear on a page of the signed-in user.
FOREIGN_CONTACT = {"id": "acme~c~9", "userName": "robin@other.test", "firstName": "Robin",
                   "lastName": "Foreignly", "email": "robin@other.test",
                   "company": {"id": 4, "name": "Other Company"}}
FOREIGN_MARK = "Foreignly"
USERS = {CONTACT["id"]: CONTACT, FOREIGN_CONTACT["id"]: FOREIGN_CONTACT}
TICKET_ID = 1005


class FakeDeskDirector:
    """Register on a RequestsMock; `payload` goes into every text DeskDirector hands back."""

    def __init__(self, mock: responses.RequestsMock, payload: str = "") -> None:
        self.payload = payload
        self.writes: list[tuple[str, str]] = []
        routes = [
            ("GET", r"/api/v2/user/client", self._me_contact),
            ("GET", r"/api/v2/user/member", self._me_agent),
            ("GET", r"/api/v4/(portal|tech)/tickets", self._tickets),
            ("GET", r"/api/v4/(portal|tech)/tickets/(\d+)", self._ticket),
            ("POST", r"/api/v4/(portal|tech)/tickets/(\d+)/notes", self._write),
            ("POST", r"/api/v4/portal/tickets", self._create),
            ("PATCH", r"/api/v4/tech/tickets/(\d+)", self._patch),
            ("GET", r"/api/v4/portal/(request-types|priorities)", self._lookup),
            ("GET", r"/api/v4/tech/(statuses|priorities|agents)", self._lookup),
        ]
        for method, path, handler in routes:
            mock.add_callback(method, re.compile(re.escape(HOST) + path + r"(\?.*)?$"), callback=handler)

    # -- who is calling --------------------------------------------------------------------
    @staticmethod
    def _caller(request) -> dict | None:
        token = request.headers.get("Authorization", "").removeprefix("DdAccessToken ")
        if token not in ISSUED_TOKENS:
            return None  # DeskDirector knows only the tokens it issued
        subject = jwt.decode(token, options={"verify_signature": False}).get("sub")
        return USERS.get(subject) or (AGENT if subject == AGENT["id"] else None)

    def _answer(self, request, body, status=200):
        caller = self._caller(request)
        if caller is None:
            return 401, {}, json.dumps({"errorCode": "Unauthorized"})
        return status, {"Content-Type": "application/json"}, json.dumps(body(caller))

    def _text(self, words: str) -> str:
        return f"{words} {self.payload}".strip()

    # -- handlers ----------------------------------------------------------------------------
    def _me_contact(self, request):
        caller = self._caller(request)
        if caller is AGENT:
            return 403, {}, json.dumps({"errorCode": "Forbidden"})
        return self._answer(request, lambda who: {**who, "firstName": self._text(who["firstName"])})

    def _me_agent(self, request):
        caller = self._caller(request)
        if caller is not None and caller is not AGENT:
            return 403, {}, json.dumps({"errorCode": "Forbidden"})
        return self._answer(request, lambda who: {**who, "name": self._text(who["name"])})

    def _row(self, who: dict, ticket_id: int = TICKET_ID) -> dict:
        owner = f"{who.get('firstName', who.get('name'))} {who.get('lastName', '')}".strip()
        return {"id": ticket_id, "summary": self._text(f"Ticket of {owner}"),
                "status": {"id": 1, "name": self._text("New")}, "priority": {"id": 1, "name": "Low"},
                "assignedAgents": [{"id": 5, "name": self._text("Priya Shah")}],
                "contact": {"id": 7, "name": self._text(owner)},
                "account": {"id": 3, "name": self._text("Acme Pty")},
                "createdOn": "2026-11-01T10:00:00Z", "modifiedOn": "2026-11-27T10:00:00Z"}

    def _tickets(self, request):
        return self._answer(request, lambda who: {"total": 1, "results": [self._row(who)]})

    def _ticket(self, request):
        ticket_id = int(re.search(r"/tickets/(\d+)", request.url).group(1))
        if ticket_id != TICKET_ID:
            return 404, {}, json.dumps({"errorCode": "NotFound"})
        return self._answer(request, lambda who: {
            **self._row(who), "description": self._text("It broke."),
            "requestType": {"id": 1, "name": self._text("Hardware")},
            "notes": [{"id": 1, "note": self._text("<p>First message</p>"), "isInternal": False,
                       "createdOn": "2026-11-02T10:00:00Z",
                       "createdBy": {"id": who["id"], "name": self._text("Pat Lee")}}]})

    def _write(self, request):
        self.writes.append((request.method, request.url))
        return self._answer(request, lambda who: {"id": 9, "note": "sent"}, status=201)

    def _create(self, request):
        self.writes.append((request.method, request.url))
        return self._answer(request, lambda who: self._row(who, 1077), status=201)

    def _patch(self, request):
        self.writes.append((request.method, request.url))
        return self._answer(request, lambda who: self._row(who))

    def _lookup(self, request):
        kind = request.url.rsplit("/", 1)[1].split("?")[0]
        rows = {"request-types": [{"id": 1, "name": self._text("Hardware")}, {"id": 2, "name": "Software"}],
                "priorities": [{"id": 1, "name": self._text("Low")}, {"id": 3, "name": "High"}],
                "statuses": [{"id": 1, "name": self._text("New")}, {"id": 2, "name": "In progress"},
                             {"id": 6, "name": "Closed", "isClosed": True}],
                "agents": [{"id": 2, "name": self._text("Sam Agent")}, {"id": 5, "name": "Priya Shah"}]}
        return self._answer(request, lambda who: rows[kind])
