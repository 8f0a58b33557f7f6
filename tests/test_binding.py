"""ddsite.binding: a copied field is the field WTForms would have bound, a copied blank form is the
form WTForms would have built, and copies share nothing."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.datastructures import MultiDict
from wtforms import Form as PlainForm
from wtforms import StringField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.core import Flags, Label

from ddsite.binding import _BLANKS as BLANKS
from ddsite.binding import _NOT_COPIED as NOT_COPIED
from ddsite.binding import FastBindMeta, copyable
from ddsite.deskdirector.models import Ref
from ddsite.forms import Form
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


# ---- blank forms: a copy of the class's first blank form ------------------------------------
def _stock(form_class):
    """A blank form as WTForms and flask-wtf build it, ddsite's copying left out."""
    form = object.__new__(form_class)
    FlaskForm.__init__(form, formdata=None)
    return form


def _same_form(copied, stock) -> None:
    assert type(copied) is type(stock) and copied.__dict__.keys() == stock.__dict__.keys()
    assert vars(copied.meta) == vars(stock.meta) and copied.meta is not stock.meta
    assert copied.form_errors == [] and copied.form_errors is not stock.form_errors
    if "_csrf" in vars(stock):
        assert type(copied._csrf) is type(stock._csrf) and copied._csrf.meta is copied.meta
    assert list(copied._fields) == list(stock._fields)
    for name, field in copied._fields.items():
        assert getattr(copied, name) is field and field._form is copied and field.meta is copied.meta
        theirs = stock._fields[name]
        for attribute in ("_form", "meta", "csrf_impl"):
            if attribute in vars(theirs):
                vars(theirs)[attribute] = vars(field)[attribute]  # pointers to each one's own
        _same_state(field, theirs)
        assert str(field) == str(theirs), name  # the same HTML, CSRF token included


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
def test_a_blank_form_is_a_copy_with_the_state_wtforms_gives_it(app, form_class):
    with app.test_request_context("/"):
        form_class()  # the first keeps the class's blank form
        copied = form_class()
        kept = [v for k, v in app.extensions[BLANKS].items() if k[0] is form_class]
        assert kept and kept[0] is not NOT_COPIED  # it was a copy
        _same_form(copied, _stock(form_class))


def test_blank_copies_share_nothing_with_each_other_or_the_kept_form(app):
    with app.test_request_context("/tech/tickets/1"):
        first = UpdateForm().with_choices([Ref(1, "New"), Ref(2, "Open")], [], [Ref(201, "Sam")])
        first.process(formdata=MultiDict([("status", "2"), ("assignees", "201")]))
        first.validate()
        first.form_errors.append("changed")
        first.status.flags.required = "changed"
        first.meta.csrf_field_name = "changed"
        first.csrf_token.current_token = "changed"
        second = UpdateForm()
        assert second.status.data is None and second.assignees.data is None
        assert second.status.choices is None and second.form_errors == []
        assert second.status.flags.required is True and second.meta.csrf_field_name == "csrf_token"
        assert second.csrf_token.current_token == generate_csrf() and first.status.data == "2"
        _same_form(UpdateForm(), _stock(UpdateForm))


def test_a_form_made_outside_a_request_is_blank_as_flask_wtf_makes_it(app):
    with app.app_context():
        assert TicketFilterForm().q.data == "" and TicketFilterForm().page.data == 1


def test_a_submitted_form_is_built_from_what_was_sent(app):
    with app.test_request_context("/portal/tickets/1", method="POST", data={"note": " Hi "}):
        assert ReplyForm().note.data == "Hi" and ReplyForm().note.data == "Hi"
        assert ReplyForm(formdata=None).note.data is None  # blank on purpose: a copy
    with app.test_request_context("/portal/tickets/1"):
        assert ReplyForm(MultiDict([("note", "Hello")])).note.data == "Hello"
        assert ReplyForm(data={"note": "Given"}).note.data == "Given"


def test_each_request_copy_carries_that_sessions_csrf_token(app):
    tokens = []
    for _ in range(2):
        with app.test_request_context("/portal/tickets/1"):
            form = ReplyForm()
            tokens.append(form.csrf_token.current_token)
            validate_csrf(form.csrf_token.current_token)
            assert form.csrf_token.csrf_impl is form._csrf
    assert tokens[0] != tokens[1]  # two sessions, two secrets


def test_a_change_of_the_apps_csrf_settings_makes_another_copy(app):
    with app.test_request_context("/portal/tickets/1"):
        assert "csrf_token" in ReplyForm()._fields
        app.config["WTF_CSRF_ENABLED"] = False
        assert "csrf_token" not in ReplyForm()._fields
        app.config["WTF_CSRF_ENABLED"] = True
        assert "csrf_token" in ReplyForm()._fields


class _Counted:
    made = 0

    def __call__(self) -> str:
        _Counted.made += 1
        return f"default {_Counted.made}"


class _Stamped(Form):
    stamp = StringField("Stamp", default=_Counted())


class _Filtered(Form):
    note = StringField("Note", default="x")

    def filter_note(self, value):
        return value.upper()


class _Hooked(Form):
    note = StringField("Note")

    def post_process(self, formdata=None):
        super().post_process(formdata)
        self.hooked = getattr(self, "hooked", 0) + 1


_FIELD_HOOK_RUNS: list[str] = []


class _HookedField(StringField):
    copy_bound = True  # plain otherwise: only its hook keeps its form from being copied

    def post_process(self, formdata=None):
        super().post_process(formdata)
        _FIELD_HOOK_RUNS.append(self.name)


class _FieldHooked(Form):
    note = _HookedField("Note")


def test_forms_whose_blank_forms_may_differ_are_built_the_stock_way(app):
    with app.test_request_context("/"):
        first, second = _Stamped().stamp.data, _Stamped().stamp.data
        assert first != second and second.startswith("default ")  # each form its own default
        assert [_Filtered().note.data for _ in range(2)] == ["X", "X"]
        assert [_Hooked().hooked for _ in range(2)] == [1, 1]
        _FieldHooked()
        runs = len(_FIELD_HOOK_RUNS)
        _FieldHooked()
        assert len(_FIELD_HOOK_RUNS) == runs + 1  # its hook ran for this form too
        kept = app.extensions[BLANKS]
        assert all(kept[key] is NOT_COPIED for key in kept
                   if key[0] in (_Stamped, _Filtered, _Hooked, _FieldHooked))
