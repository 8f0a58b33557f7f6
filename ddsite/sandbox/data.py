"""The sandbox's seeded help desk: companies, contacts, agents, tickets and notes, in memory.

Stored as plain dicts in DeskDirector's own wire shape (camelCase); the sandbox shares no models
with ddsite's client, so contract tests between the two prove something.
"""

from __future__ import annotations

import functools
import random
import threading
from datetime import UTC, datetime, timedelta

DATABASE = "acme"

STATUSES = [
    {"id": 1, "name": "New", "isClosed": False},
    {"id": 2, "name": "In progress", "isClosed": False},
    {"id": 3, "name": "Waiting on client", "isClosed": False},
    {"id": 4, "name": "Scheduled", "isClosed": False},
    {"id": 5, "name": "Resolved", "isClosed": True},
    {"id": 6, "name": "Closed", "isClosed": True},
]
PRIORITIES = [{"id": 1, "name": "Low"}, {"id": 2, "name": "Medium"},
              {"id": 3, "name": "High"}, {"id": 4, "name": "Critical"}]
REQUEST_TYPES = [{"id": 1, "name": "Hardware"}, {"id": 2, "name": "Software"},
                 {"id": 3, "name": "Network"}, {"id": 4, "name": "Account and access"},
                 {"id": 5, "name": "New starter"}, {"id": 6, "name": "General question"}]
COMPANIES = [{"id": 11, "name": "Harbour Dental"}, {"id": 12, "name": "Northwind Logistics"},
             {"id": 13, "name": "Cobalt Architects"}, {"id": 14, "name": "Greenfield Council"}]
# Two small companies for the Insights demo and tests: one with no tickets, one with a single open
# ticket; each has one contact, a company manager.
QUIET_COMPANIES = [{"id": 15, "name": "Quiet Bakery", "contact": (115, "Ruby", "Quinn")},
                   {"id": 16, "name": "Solo Studio", "contact": (116, "Omar", "Said")}]
SINGLE_TICKET_ID = 1065
# Closed tickets spread over past weeks, so Insights has a history worth charting.
HISTORY_TICKETS = 96
HISTORY_WEEKS = 16
_CONTACT_NAMES = [
    ("Olivia", "Nguyen"), ("Liam", "Patel"), ("Mia", "Thompson"), ("Noah", "Kowalski"),
    ("Ava", "Okafor"), ("Lucas", "Fernández"), ("Chloe", "Brown"), ("Ethan", "Murray"),
    ("Zoe", "Tanaka"), ("Jack", "O'Brien"), ("Isla", "Schmidt"), ("Leo", "Haddad"),
    ("Grace", "Wilson"), ("Henry", "Costa"),
]
AGENTS = [
    {"id": 201, "name": "Sam Reyes", "email": "sam.reyes@brightmsp.example"},
    {"id": 202, "name": "Priya Shah", "email": "priya.shah@brightmsp.example"},
    {"id": 203, "name": "Tom Becker", "email": "tom.becker@brightmsp.example"},
    {"id": 204, "name": "Aisha Rahman", "email": "aisha.rahman@brightmsp.example"},
    {"id": 205, "name": "Dan Walsh", "email": "dan.walsh@brightmsp.example"},
]
_PROBLEMS = [
    ("Printer on level 2 jams on every job", 1), ("Outlook keeps asking for my password", 2),
    ("VPN drops every few minutes when working from home", 3), ("New laptop for Jordan starting Monday", 5),
    ("Cannot open the shared drive S:", 3), ("Teams camera not detected", 1),
    ("Please reset MFA on my phone", 4), ("Excel crashes when opening the budget file", 2),
    ("Wi-Fi very slow in the meeting room", 3), ("Access to the finance folder for Alex", 4),
    ("Scanner sends e-mails to the wrong address", 1), ("Install Adobe Acrobat Pro", 2),
    ("Phone system: voicemail not arriving by e-mail", 3), ("Laptop battery swells, lid will not close", 1),
    ("Question about the backup schedule", 6), ("Remove access for a staff member who left", 4),
    ("Website contact form stopped sending", 2), ("Monitor flickers after the update", 1),
    ("Need a quote for three new desktops", 6), ("Password expired and locked out", 4),
]
# Who says what: an agent's reply never comes from a contact. Both lists have eight entries, so
# the seeded tickets (drawn from one random stream) stay the same whoever speaks.
_AGENT_REPLIES = [
    "Thanks for letting us know. I'm looking into this now.",
    "Could you send a photo of the error message, please?",
    "I have remoted in and applied the fix. Can you try again?",
    "I've ordered the part; it should arrive on Thursday.",
    "We'll schedule this for after hours to avoid disruption.",
    "Is anyone else in the office seeing the same thing?",
    "I've reset it on our side. Please sign out and back in.",
    "A technician will be on site tomorrow morning.",
]
_CONTACT_REPLIES = [
    "Still happening this morning, unfortunately.",
    "That worked, thank you!",
    "Here is the photo of the error message.",
    "It's only me; the others are fine.",
    "Any update on this? It's holding up the team.",
    "Thursday is fine, someone will be in the office.",
    "I tried restarting it as you said; no change.",
    "Great, thanks for the quick help.",
]
_INTERNAL = [
    "Checked the logs: the driver was rolled back by the last update.",
    "Client is on the old plan; quote before doing the work.",
    "Escalated to the vendor, case 44821.",
    "Same issue as last month; consider replacing the device.",
]


@functools.lru_cache(maxsize=4096)
def iso(moment: datetime) -> str:
    """DeskDirector's timestamp format: UTC, 7 fractional digits, Z."""
    # Written out by hand, and kept for the moments lists show on every read: strftime was
    # most of the CPU of a long ticket's reply.
    m = moment.astimezone(UTC)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
            f".{m.microsecond:06d}0Z")


def _by_id(rows: list[dict]) -> dict:
    return {row["id"]: row for row in rows}


_STATUS_BY_ID, _PRIORITY_BY_ID, _REQUEST_TYPE_BY_ID = map(_by_id, (STATUSES, PRIORITIES, REQUEST_TYPES))


class HelpDesk:
    """All sandbox state, guarded by one lock so concurrent requests stay consistent."""

    def __init__(self, seed: int = 7, now: datetime | None = None) -> None:
        self.lock = threading.RLock()
        self.random = random.Random(seed)
        self.now = now or datetime.now(UTC)
        self.companies = {c["id"]: dict(c) for c in COMPANIES}
        self.agents = {a["id"]: dict(a) for a in AGENTS}
        self.contacts: dict[int, dict] = {}
        self.tickets: dict[int, dict] = {}
        self._next_note_id = 5001
        # Each note's wire form, by note id: a note never changes once written, and building
        # them again for every read of a long ticket cost more than the rest of the reply.
        self._wire_notes: dict[int, dict] = {}
        self._seed_contacts()
        self._seed_tickets(64)
        self._seed_quiet_companies()
        self._seed_history(HISTORY_TICKETS, random.Random(seed + 1))

    # ---- seeding ---------------------------------------------------------------------------
    def _seed_contacts(self) -> None:
        company_ids = list(self.companies)
        for index, (first, last) in enumerate(_CONTACT_NAMES):
            company_id = company_ids[index % len(company_ids)]
            domain = self.companies[company_id]["name"].split()[0].lower()
            self.contacts[101 + index] = {
                "id": 101 + index, "firstName": first, "lastName": last,
                "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}@{domain}.example",
                "companyId": company_id,
                # Every fourth contact is a company manager who sees the company's tickets.
                "canSeeCompanyTickets": index % 4 == 0,
            }

    def _seed_tickets(self, count: int) -> None:
        rng = self.random
        contact_ids = list(self.contacts)
        for number in range(count):
            ticket_id = 1001 + number
            summary, request_type = _PROBLEMS[number % len(_PROBLEMS)]
            contact = self.contacts[contact_ids[number % len(contact_ids)]]
            created = self.now - timedelta(days=rng.uniform(0.2, 120), minutes=rng.randint(0, 600))
            status = STATUSES[rng.choice([0, 1, 1, 2, 3, 4, 5, 5])]
            assigned = rng.sample(list(self.agents), k=rng.choice([0, 1, 1, 1, 2]))
            ticket = {
                "id": ticket_id, "summary": summary,
                "description": f"{summary}.\n\nReported by {contact['firstName']} from "
                               f"{self.companies[contact['companyId']]['name']}.",
                "contactId": contact["id"], "companyId": contact["companyId"],
                "statusId": status["id"], "priorityId": rng.choice([1, 2, 2, 2, 3, 3, 4]),
                "requestTypeId": request_type, "assignedAgentIds": assigned,
                "createdOn": created, "modifiedOn": created, "closedOn": None,
                "tags": rng.sample(["onsite", "remote", "hardware", "billing", "vip"], k=rng.randint(0, 2)),
                "notes": [], "tasks": (rng.randint(0, 3), 3) if rng.random() < 0.3 else None,
            }
            moment = created
            steps = rng.randint(1, 5)
            replies = iter(rng.sample(range(len(_AGENT_REPLIES)), k=steps))
            agent_id = assigned[0] if assigned else rng.choice(list(self.agents))
            for step in range(steps):
                moment = min(moment + timedelta(hours=rng.uniform(1, 72)), self.now)
                # Contact and agent take turns; agents sometimes leave an internal note between.
                if step > 0 and rng.random() < 0.3:
                    author, text, internal = self.agent_author(agent_id), rng.choice(_INTERNAL), True
                elif step % 2 == 0:
                    author, internal = self.contact_author(contact["id"]), False
                    text = _CONTACT_REPLIES[next(replies)]
                else:
                    author, internal = self.agent_author(agent_id), False
                    text = _AGENT_REPLIES[next(replies)]
                ticket["notes"].append(self._note(text, internal, author, moment))
            ticket["modifiedOn"] = moment
            if status["isClosed"]:
                ticket["closedOn"] = moment
            self.tickets[ticket_id] = ticket

    def _seed_quiet_companies(self) -> None:
        for company in QUIET_COMPANIES:
            self.companies[company["id"]] = {"id": company["id"], "name": company["name"]}
            contact_id, first, last = company["contact"]
            self.contacts[contact_id] = {
                "id": contact_id, "firstName": first, "lastName": last,
                "email": f"{first.lower()}@{company['name'].split()[0].lower()}.example",
                "companyId": company["id"], "canSeeCompanyTickets": True}
        # Solo Studio's one ticket: open, In progress, High, raised 9 days ago.
        created = self.now - timedelta(days=9)
        self.tickets[SINGLE_TICKET_ID] = {
            "id": SINGLE_TICKET_ID, "summary": "Card reader at the front desk is offline",
            "description": "The card reader shows 'no network' since this morning.",
            "contactId": 116, "companyId": 16, "statusId": 2, "priorityId": 3, "requestTypeId": 1,
            "assignedAgentIds": [202], "createdOn": created, "modifiedOn": created,
            "closedOn": None, "tags": [], "notes": [], "tasks": None}

    def _seed_history(self, count: int, rng: random.Random) -> None:
        """Closed tickets of the last weeks; a separate random stream keeps the rest unchanged."""
        contact_ids = [c for c in self.contacts if self.contacts[c]["companyId"] not in
                       {q["id"] for q in QUIET_COMPANIES}]
        for number in range(count):
            ticket_id = SINGLE_TICKET_ID + 1 + number
            summary, request_type = _PROBLEMS[rng.randrange(len(_PROBLEMS))]
            contact = self.contacts[rng.choice(contact_ids)]
            created = self.now - timedelta(days=rng.uniform(1, HISTORY_WEEKS * 7))
            closed = min(created + timedelta(hours=rng.choice([2, 6, 20, 30, 50, 75, 120, 200])),
                         self.now)
            agent_id = rng.choice(list(self.agents))
            notes = [self._note(rng.choice(_AGENT_REPLIES), False, self.agent_author(agent_id),
                                created + (closed - created) / 3),
                     self._note("That worked, thank you!", False,
                                self.contact_author(contact["id"]), closed)]
            self.tickets[ticket_id] = {
                "id": ticket_id, "summary": summary,
                "description": f"{summary}.\n\nReported by {contact['firstName']}.",
                "contactId": contact["id"], "companyId": contact["companyId"],
                "statusId": rng.choice([5, 6]), "priorityId": rng.choice([1, 2, 2, 3, 3, 4]),
                "requestTypeId": request_type, "assignedAgentIds": [agent_id],
                "createdOn": created, "modifiedOn": closed, "closedOn": closed, "tags": [],
                "notes": notes, "tasks": None}

    def _note(self, text: str, internal: bool, author: dict, moment: datetime) -> dict:
        note = {"id": self._next_note_id, "note": text, "type": "Internal" if internal else "Public",
                "isInternal": internal, "createdOn": moment, "createdBy": author}
        self._next_note_id += 1
        return note

    def contact_author(self, contact_id: int) -> dict:
        """A contact as a note's author."""
        contact = self.contacts[contact_id]
        return {"id": f"{DATABASE}~c~{contact_id}",
                "name": f"{contact['firstName']} {contact['lastName']}", "userType": "Client"}

    def agent_author(self, agent_id: int) -> dict:
        """An agent as a note's author."""
        return {"id": f"{DATABASE}~m~{agent_id}", "name": self.agents[agent_id]["name"],
                "userType": "Member"}

    # ---- queries ---------------------------------------------------------------------------
    def visible_to_contact(self, contact_id: int, ticket: dict) -> bool:
        """Own tickets, and the company's for a contact who may see them."""
        contact = self.contacts[contact_id]
        if ticket["contactId"] == contact_id:
            return True
        return contact["canSeeCompanyTickets"] and ticket["companyId"] == contact["companyId"]

    def last_activity(self, ticket: dict) -> datetime:
        """When anything last happened on the ticket."""
        notes = [n["createdOn"] for n in ticket["notes"]]
        return max([ticket["modifiedOn"], *notes])

    def status(self, status_id: int) -> dict:
        """The status with this id."""
        return _STATUS_BY_ID[status_id]

    def add_note(self, ticket: dict, text: str, internal: bool, author: dict) -> dict:
        """Append a note and touch the ticket."""
        now = datetime.now(UTC)
        note = self._note(text, internal, author, now)
        ticket["notes"].append(note)
        ticket["modifiedOn"] = now
        return note

    def create_ticket(self, contact_id: int, summary: str, description: str, request_type_id: int,
                      priority_id: int | None) -> dict:
        """A new ticket raised by a contact."""
        now = datetime.now(UTC)
        contact = self.contacts[contact_id]
        ticket_id = max(self.tickets) + 1
        ticket = {"id": ticket_id, "summary": summary, "description": description,
                  "contactId": contact_id, "companyId": contact["companyId"], "statusId": 1,
                  "priorityId": priority_id or 2, "requestTypeId": request_type_id,
                  "assignedAgentIds": [], "createdOn": now, "modifiedOn": now, "closedOn": None,
                  "tags": [], "notes": [], "tasks": None}
        self.tickets[ticket_id] = ticket
        return ticket

    # ---- wire format -----------------------------------------------------------------------
    def _ref(self, table: dict, ref_id) -> dict | None:
        """{id, name} of row `ref_id` of a table keyed by id."""
        row = None if ref_id is None else table.get(ref_id)
        return {"id": row["id"], "name": row["name"]} if row else None

    def summary_json(self, ticket: dict, *, for_contact: bool) -> dict:
        """A ticket as a list row; internal notes never count for a contact."""
        contact = self.contacts[ticket["contactId"]]
        notes = [n for n in ticket["notes"] if not (for_contact and n["isInternal"])]
        latest = notes[-1] if notes else None
        status = self.status(ticket["statusId"])
        return {
            "id": ticket["id"], "summary": ticket["summary"],
            "requestType": self._ref(_REQUEST_TYPE_BY_ID, ticket["requestTypeId"]),
            "account": self._ref(self.companies, ticket["companyId"]),
            "contact": {"id": contact["id"], "name": f"{contact['firstName']} {contact['lastName']}"},
            "status": {"id": status["id"], "name": status["name"]},
            "priority": self._ref(_PRIORITY_BY_ID, ticket["priorityId"]),
            "assignedAgents": [self._ref(self.agents, a) for a in ticket["assignedAgentIds"]],
            "createdOn": iso(ticket["createdOn"]), "modifiedOn": iso(ticket["modifiedOn"]),
            "closedOn": iso(ticket["closedOn"]) if ticket["closedOn"] else None,
            "isClosed": status["isClosed"], "tags": list(ticket["tags"]),
            "descriptionPreview": ticket["description"][:140],
            "latestNote": None if latest is None else {
                "id": latest["id"], "notePreview": latest["note"][:140],
                "createdOn": iso(latest["createdOn"]), "createdBy": dict(latest["createdBy"])},
        }

    def ticket_json(self, ticket: dict, *, for_contact: bool) -> dict:
        """A whole ticket; a contact's copy carries no internal note."""
        data = self.summary_json(ticket, for_contact=for_contact)
        data["description"] = ticket["description"]
        data["notes"] = [self.note_json(n) for n in ticket["notes"]
                         if not (for_contact and n["isInternal"])]
        tasks = ticket["tasks"]
        data["taskProgress"] = {"done": tasks[0], "total": tasks[1]} if tasks else None
        return data

    def note_json(self, note: dict) -> dict:
        """One note on the wire (the same dict every time: it is only ever read)."""
        wire = self._wire_notes.get(note["id"])
        if wire is None:
            wire = self._wire_notes[note["id"]] = {
                **note, "createdOn": iso(note["createdOn"]), "createdBy": dict(note["createdBy"])}
        return wire
