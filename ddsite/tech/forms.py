"""Agent forms: the queue filter, a note, a ticket update, a confirmed quick action."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from ..deskdirector.models import Ref, Ticket
from ..forms import Form, ListFilterForm, OnceForm, RefField, RefsField, choices, note_field
from .merge import Fields

VIEWS = {  # queue view → (status, assigned), in the words of api.tech.tickets
    "mine": ("open", "me"),
    "unassigned": ("open", "unassigned"),
    "open": ("open", "any"),
    "closed": ("closed", "any"),
}
VIEW_CHOICES = [SelectChoice("mine", "Assigned to me"), SelectChoice("unassigned", "Unassigned"),
                SelectChoice("open", "All open"), SelectChoice("closed", "Closed")]
SORT_CHOICES = [SelectChoice("activity", "Last activity"), SelectChoice("priority", "Priority"),
                SelectChoice("age", "Oldest first")]


class QueueFilterForm(ListFilterForm):
    """Filters of the agent's queue."""

    view = SelectField("Show", choices=VIEW_CHOICES, default="mine", validators=[Optional()])
    sort = SelectField("Sort by", choices=SORT_CHOICES, default="activity", validators=[Optional()])


class NoteForm(OnceForm):
    """The composer: a note, internal unless they choose otherwise, and maybe a new status."""

    note = note_field("Note")
    visibility = RadioField("Who can see it", default="internal", validators=[DataRequired()],
                            choices=[SelectChoice("internal", "Internal note"),
                                     SelectChoice("public", "Public reply")])
    # No Optional(): it would stop the chain before validate_then_status could ask for a status.
    then_status = RefField("and set status to")
    send = StringField()  # which button: "plain", or "with_status" for "Send and set status"
    status_when_loaded = HiddenField()

    def with_statuses(self, statuses: list[Ref]):
        """Offer DeskDirector's statuses for "Send and set status"."""
        self.then_status.choices = choices(statuses, "Choose a status…")
        return self

    def remember(self, ticket: Ticket) -> None:
        """Record the status as loaded: a status someone else set meanwhile is not overwritten."""
        self.status_when_loaded.data = _text(ticket.status)

    def status_to_set(self):
        """The status (its id as DeskDirector wrote it) to set after the note, when "Send and
        set status" was pressed; else None."""
        return self.then_status.chosen if self.send.data == "with_status" else None

    def validate_then_status(self, field) -> None:
        """"Send and set status" needs a status."""
        if self.send.data == "with_status" and field.chosen is None:
            raise ValidationError("Choose the status to set, or press Send.")


class UpdateForm(OnceForm):
    """Status, priority and assignees, with what they were when the form was loaded.

    Values are compared as text, so an instance that writes ids as strings ("21") and one that
    writes numbers (21) behave the same; what goes out is the id as DeskDirector wrote it.
    """

    status = RefField("Status", validators=[DataRequired("Choose a status.")])
    priority = RefField("Priority", validators=[Optional()])
    assignees = RefsField("Assigned agents")
    loaded_modified_on = HiddenField()
    loaded_status = HiddenField()
    loaded_priority = HiddenField()
    loaded_assignees = HiddenField()

    def with_choices(self, statuses: list[Ref], priorities: list[Ref], agents: list[Ref],
                     ticket: Ticket | None = None):
        """Fill the choices from DeskDirector's own lists (plus the ticket's current values,
        should a list leave one out, so loading the form never drops them)."""
        self.status.choices = choices(statuses, "Choose…")
        self.priority.choices = choices(priorities, "No priority")
        self.assignees.choices = [SelectChoice(a.id, a.name) for a in agents]
        if ticket is not None:
            self.status.offer(ticket.status)
            self.priority.offer(ticket.priority)
            self.assignees.offer(ticket.assigned_agents)
        return self

    def validate(self, extra_validators=None) -> bool:
        """The agent's choices, and the remembered values the page itself wrote."""
        valid = super().validate(extra_validators)
        # The page writes only ids of agents it offers (the ticket's own are always offered),
        # comma separated; anything else ("²", "-1", "1,,2") was not written by it.
        offered = {str(choice.value) for choice in self.assignees.choices or ()}
        if any(i not in offered for i in self.loaded_assignee_ids()):
            self.form_errors.append("The form was changed outside this page, so nothing was sent. "
                                    "Reload the page and make your changes again.")
            return False
        return valid

    def load(self, ticket: Ticket) -> None:
        """Show the ticket's current values and remember them, to send only what changes."""
        self.show(fields_of(ticket))
        self.remember(ticket)

    def show(self, values: Fields) -> None:
        """Put these values (ids as text) in the form's fields."""
        self.status.data, self.priority.data = values.status, values.priority
        self.assignees.data = list(values.assignees)

    def remember(self, ticket: Ticket) -> None:
        """Record the ticket as loaded (also after a conflict, so the agent can re-apply)."""
        loaded = fields_of(ticket)
        self.loaded_modified_on.data = ticket.raw_modified_on
        self.loaded_status.data = loaded.status or ""
        self.loaded_priority.data = loaded.priority or ""
        self.loaded_assignees.data = ",".join(loaded.assignees)

    def loaded_assignee_ids(self) -> list[str]:
        """The assignees' ids (as text) when the form was loaded."""
        loaded = self.loaded_assignees.data or ""
        return loaded.split(",") if loaded else []

    def loaded(self) -> Fields:
        """The values the agent saw when the form was loaded."""
        return Fields.of(self.loaded_status.data, self.loaded_priority.data,
                         self.loaded_assignee_ids())

    def wanted(self) -> Fields:
        """The values the agent chose."""
        return Fields.of(self.status.data, self.priority.data, self.assignees.data or [])


def _text(ref: Ref | None) -> str:
    return "" if ref is None or ref.id is None else str(ref.id)


def fields_of(ticket: Ticket) -> Fields:
    """A ticket's updatable fields, ids as text."""
    return Fields.of(ticket.status.id if ticket.status else None,
                     ticket.priority.id if ticket.priority else None,
                     [a.id for a in ticket.assigned_agents])


class ConfirmForm(Form):
    """A quick action from the queue; `confirmed` is set by the confirmation step."""

    confirmed = HiddenField()
