"""Agent forms: the queue filter, a note, a ticket update, a confirmed quick action."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..deskdirector.models import Ref, Ticket
from ..forms import ListFilterForm, OnceForm, choices, int_or_none, note_field

VIEWS = {  # queue view → (status, assigned) as DeskDirector's list takes them
    "mine": ("open", "me"),
    "unassigned": ("open", "unassigned"),
    "open": ("open", "any"),
    "closed": ("closed", "any"),
}
VIEW_CHOICES = [SelectChoice("mine", "Assigned to me"), SelectChoice("unassigned", "Unassigned"),
                SelectChoice("open", "All open"), SelectChoice("closed", "Closed")]
# Agent ids as the form remembers them: ASCII digits, comma separated ("²" is a digit to Python).
_ID_LIST = re.compile(r"(?:[0-9]+(?:,[0-9]+)*)?")
SORT_CHOICES = [SelectChoice("activity", "Last activity"), SelectChoice("priority", "Priority"),
                SelectChoice("age", "Oldest first")]


class QueueFilterForm(ListFilterForm):
    """Filters of the agent's queue."""

    view = SelectField("Show", choices=VIEW_CHOICES, default="mine", validators=[Optional()])
    sort = SelectField("Sort by", choices=SORT_CHOICES, default="activity", validators=[Optional()])


class NoteForm(OnceForm):
    """A note from an agent; internal unless they choose otherwise."""

    note = note_field("Note")
    visibility = RadioField("Who can see it", default="internal", validators=[DataRequired()],
                            choices=[SelectChoice("internal", "Internal (agents only)"),
                                     SelectChoice("public", "Public (the contact sees it)")])


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UpdateForm(OnceForm):
    """Status, priority and assignees, with what they were when the form was loaded."""

    status = SelectField("Status", coerce=int_or_none, validators=[DataRequired("Choose a status.")])
    priority = SelectField("Priority", coerce=int_or_none, validators=[Optional()])
    assignees = MultiCheckboxField("Assigned agents", coerce=int)
    loaded_modified_on = HiddenField()
    loaded_status = HiddenField()
    loaded_priority = HiddenField()
    loaded_assignees = HiddenField()

    def with_choices(self, statuses: list[Ref], priorities: list[Ref], agents: list[Ref]):
        """Fill the choices from DeskDirector's own lists."""
        self.status.choices = choices(statuses, "Choose…")
        self.priority.choices = choices(priorities, "No priority")
        self.assignees.choices = [SelectChoice(a.id, a.name) for a in agents]
        return self

    def validate(self, extra_validators=None) -> bool:
        """The agent's choices, and the remembered values the page itself wrote."""
        valid = super().validate(extra_validators)
        if not _ID_LIST.fullmatch(self.loaded_assignees.data or ""):
            self.form_errors.append("The form was changed outside this page, so nothing was sent. "
                                    "Reload the page and make your changes again.")
            return False
        return valid

    def load(self, ticket: Ticket) -> None:
        """Show the ticket's current values and remember them, to send only what changes."""
        self.status.data = ticket.status.id if ticket.status else None
        self.priority.data = ticket.priority.id if ticket.priority else None
        self.assignees.data = [a.id for a in ticket.assigned_agents]
        self.remember(ticket)

    def remember(self, ticket: Ticket) -> None:
        """Record the ticket as loaded (also after a conflict, so the agent can re-apply)."""
        self.loaded_modified_on.data = ticket.raw_modified_on
        self.loaded_status.data = str(ticket.status.id) if ticket.status else ""
        self.loaded_priority.data = str(ticket.priority.id) if ticket.priority else ""
        self.loaded_assignees.data = ",".join(str(a.id) for a in ticket.assigned_agents)

    def changes(self) -> dict:
        """The merge-patch body: only the fields the agent changed (null clears the priority)."""
        body: dict = {}
        if str(self.status.data) != self.loaded_status.data:
            body["status"] = {"id": self.status.data}
        if str(self.priority.data or "") != self.loaded_priority.data:
            body["priority"] = {"id": self.priority.data} if self.priority.data else None
        loaded = [int(i) for i in self.loaded_assignees.data.split(",") if i]
        if sorted(self.assignees.data or []) != sorted(loaded):
            body["assignedAgents"] = [{"id": agent_id} for agent_id in self.assignees.data]
        return body


class ConfirmForm(FlaskForm):
    """A quick action from the queue; `confirmed` is set by the confirmation step."""

    confirmed = HiddenField()
