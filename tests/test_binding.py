"""ddsite.binding: a copied field is the field WTForms would have bound, and copies share nothing."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form as PlainForm
from wtforms import StringField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.core import Flags, Label

from ddsite.binding import FastBindMeta, copyable
from ddsite.deskdirector.models import Ref
from ddsite.insights.views import InsightsFilterForm
from ddsite.portal.forms import NewRequestForm, ReplyForm, TicketFilterForm
from ddsite.tech.forms import ConfirmForm, NoteForm, QueueFilterForm, UpdateForm

FORMS = [NoteForm, UpdateForm, ConfirmForm, QueueFilterForm, TicketFilterForm, ReplyForm,
         NewRequestForm, InsightsFilterForm]


def _bindings(form, name: str):
    """The field bound for `form` by ddsite (a copy) and by the Meta under FastBindMeta (fast
    labels, then WTForms), both unprocessed."""
    unbound = dict(type(form)._unbound_fields)[name]
    options = {"name": unbound.name or name, "prefix": form._prefix,
               "translations": form.meta.get_translations(form)}
    return (form.meta.bind_field(form, unbound, options),
            super(FastBindMeta, form.meta).bind_field(form, unbound, options))


def _same_state(copied, stock) -> None:
    assert type(copied) is type(stock)
    assert copied.__dict__.keys() == stock.__dict__.keys()
    for name, value in stock.__dict__.items():
        mine = copied.__dict__[name]
        if isinstance(value, Label | Flags):
            assert type(mine) is type(value) and vars(mine) == vars(value), name
        else:
            assert mine == value, name


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
def test_a_copied_field_is_what_wtforms_binds(app, form_class):
    with app.test_request_context("/", method="POST"):
        for _ in range(2):  # the first form binds the templates, the second copies them
            form = form_class(formdata=None)
            for name, field in form._fields.items():
                if copyable(type(field)):
                    _same_state(*_bindings(form, name))
                    assert field.meta is form.meta and field._form is form
                else:
                    assert isinstance(field, CSRFTokenField), name  # every other field is copied


def test_forms_share_no_state_through_their_copies(app):
    with app.test_request_context("/tech/tickets/1", method="POST"):
        first = UpdateForm(formdata=MultiDict([("status", "2"), ("assignees", "201")]))
        first.with_choices([Ref(1, "New"), Ref(2, "Open")], [], [Ref(201, "Sam")])
        first.validate()
        first.status.choices.append("changed in place")
        first.status.flags.required = "changed"
        first.status.label.text = "Changed"
        first.assignees.render_kw = {"class_": "x"}
        second = UpdateForm(formdata=None)
        assert second.status.data is None and second.assignees.data is None
        assert second.status.choices is None and second.status.errors == ()
        assert second.status.flags.required is True and second.status.label.text == "Status"
        assert second.assignees.render_kw is None and first.status.data == "2"


def test_fields_not_known_to_be_plain_are_bound_the_stock_way(app):
    class Shout(StringField):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.heard = []  # state of its own: not known to copy safely

    class Loud(PlainForm):
        class Meta(FastBindMeta, PlainForm.Meta):
            pass

        shout = Shout("Shout")
        plain = StringField("Plain")

    one, two = Loud(), Loud()
    one.shout.heard.append("x")
    assert two.shout.heard == [] and not copyable(Shout) and copyable(StringField)
    assert "_ddsite_bound" not in Loud.shout.__dict__ and "_ddsite_bound" in Loud.plain.__dict__
