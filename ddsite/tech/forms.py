"""Agent forms: the queue filter, a note, a ticket update, a confirmed quick action."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..deskdirector.models import Ref, Ticket
from ..forms import ListFilterForm, OnceForm, note_field
from .merge import Fields

VIEWS = {  # queue view → (status, assigned) as DeskDirector's list takes them
    "mine": ("open", "me"),
    "unassigned": ("open", "unassigned"),
    "open": ("open", "any"),
    "closed": ("closed", "any"),
}
VIEW_CHOICES = [SelectChoice("mine", "Assigned to me"), SelectChoice("unassigned", "Unassigned"),
                SelectChoice("open", "All open"), SelectChoice("closed", "Closed")]
# An agent id as the form remembers it: ASCII digits ("²" is a digit to Python).
_ASCII_ID = re.compile(r"[0-9]+")
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


def id_or_none(value):
    """Coerce a select's value to an id string ('' means nothing chosen)."""
    return None if value in (None, "") else str(value)


def id_choices(refs: list[Ref], empty_label: str | None = None) -> list[SelectChoice]:
    """Select choices keyed by the id as a string (DeskDirector sends numbers or strings)."""
    lead = [SelectChoice("", empty_label)] if empty_label is not None else []
    return lead + [SelectChoice(str(r.id), r.name) for r in refs]


class UpdateForm(OnceForm):
    """Status, priority and assignees, with what they were when the form was loaded."""

    status = SelectField("Status", coerce=id_or_none, validators=[DataRequired("Choose a status.")])
    priority = SelectField("Priority", coerce=id_or_none, validators=[Optional()])
    assignees = MultiCheckboxField("Assigned agents", coerce=str)
    loaded_modified_on = HiddenField()
    loaded_status = HiddenField()
    loaded_priority = HiddenField()
    loaded_assignees = HiddenField()

    def with_choices(self, statuses: list[Ref], priorities: list[Ref], agents: list[Ref]):
        """Fill the choices from DeskDirector's own lists."""
        self.status.choices = id_choices(statuses, "Choose…")
        self.priority.choices = id_choices(priorities, "No priority")
        self.assignees.choices = id_choices(agents)
        # Each id as DeskDirector wrote it (number or string), to send it back the same way.
        self.upstream_ids = {str(r.id): r.id for r in [*statuses, *priorities, *agents]}
        return self

    def validate(self, extra_validators=None) -> bool:
        """The agent's choices, and the remembered values the page itself wrote."""
        valid = super().validate(extra_validators)
        loaded = self.loaded_assignees.data.split(",") if self.loaded_assignees.data else []
        # ASCII digits, or an id DeskDirector itself offered (its ids may be strings).
        if not all(_ASCII_ID.fullmatch(i) or i in self.upstream_ids for i in loaded):
            self.form_errors.append("The form was changed outside this page, so nothing was sent. "
                                    "Reload the page and make your changes again.")
            return False
        return valid

    def load(self, ticket: Ticket) -> None:
        """Show the ticket's current values and remember them, to send only what changes."""
        self.show(fields_of(ticket))
        self.remember(ticket)

    def show(self, values: Fields) -> None:
        """Put these values in the form's fields."""
        self.status.data, self.priority.data = values.status, values.priority
        self.assignees.data = list(values.assignees)

    def remember(self, ticket: Ticket) -> None:
        """Record the ticket as loaded (also after a conflict, so the agent can re-apply)."""
        loaded = fields_of(ticket)
        self.loaded_modified_on.data = ticket.raw_modified_on
        self.loaded_status.data = loaded.status or ""
        self.loaded_priority.data = loaded.priority or ""
        self.loaded_assignees.data = ",".join(loaded.assignees)

    def loaded(self) -> Fields:
        """The values the agent saw when the form was loaded."""
        return Fields.of(self.loaded_status.data, self.loaded_priority.data,
                         self.loaded_assignees.data.split(","))

    def wanted(self) -> Fields:
        """The values the agent chose."""
        return Fields.of(self.status.data, self.priority.data, self.assignees.data or [])

    def upstream_id(self, value: str | None):
        """An id as DeskDirector wrote it."""
        return None if value is None else self.upstream_ids.get(value, value)


def fields_of(ticket: Ticket) -> Fields:
    """A ticket's updatable fields as ids."""
    return Fields.of(ticket.status.id if ticket.status else None,
                     ticket.priority.id if ticket.priority else None,
                     [a.id for a in ticket.assigned_agents])


class ConfirmForm(FlaskForm):
    """A quick action from the queue; `confirmed` is set by the confirmation step."""

    confirmed = HiddenField()
