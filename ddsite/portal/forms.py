"""Contact forms: the ticket filter, a reply, a new request."""

from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..deskdirector.models import Ref, Ticket
from ..forms import ListFilterForm, NoteLength, OnceForm, RefField, choices, note_field, strip

SUMMARY_MAX = 200
STATUS_CHOICES = [SelectChoice("open", "Open"), SelectChoice("closed", "Closed"),
                  SelectChoice("any", "All")]


class TicketFilterForm(ListFilterForm):
    """Filters of the contact's ticket list."""

    status = SelectField("Show", choices=STATUS_CHOICES, default="open", validators=[Optional()])


class ReplyForm(OnceForm):
    """A contact's reply on a ticket."""

    note = note_field("Your reply")


class NewRequestForm(OnceForm):
    """A new request; choices come from DeskDirector (see `with_choices`)."""

    summary = StringField("Summary", filters=[strip], validators=[
        DataRequired("Say in a few words what you need."),
        Length(max=SUMMARY_MAX, message=f"Keep the summary under {SUMMARY_MAX} characters.")])
    description = TextAreaField("Details", validators=[Optional(), NoteLength()])
    request_type = RefField("Request type", validators=[DataRequired("Choose the kind of request.")])
    priority = RefField("Priority", validators=[Optional()])

    def with_choices(self, request_types: list[Ref], priorities: list[Ref] | None):
        """Fill the selects; without priorities (not allowed for this contact) the field goes."""
        self.request_type.choices = choices(request_types, "Choose…")
        if priorities:
            self.priority.choices = choices(priorities, "Let the team decide")
        else:
            del self.priority
        return self

    def follow_up(self, original: Ticket) -> None:
        """Start a request that follows up a (closed) ticket and names it."""
        self.summary.data = f"Follow-up to #{original.id}: {original.summary}"[:SUMMARY_MAX]
        self.description.data = f"This follows up ticket #{original.id}, which is closed.\n\n"
