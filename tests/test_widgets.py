"""ddsite.widgets: the fast path writes exactly what WTForms' widgets write, escaped and complete."""

from __future__ import annotations

import pytest
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import (
    Form,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import Choice, SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, Select, TextInput

from ddsite.deskdirector.models import Ref
from ddsite.forms import RefsField
from ddsite.tech.forms import NoteForm, UpdateForm
from ddsite.widgets import (
    CheckboxList,
    FastLabel,
    FastRenderMeta,
    _plain_select_options,
    attributes,
    labelled_radios,
    option,
)

HOSTILE = '"><script>alert(1)</script>&\'x'
CHOICES = [SelectChoice("", "Choose…"), SelectChoice("1", "New"), SelectChoice(2, "In <progress>"),
           SelectChoice(HOSTILE, HOSTILE), SelectChoice("5", ""), SelectChoice(True, "Yes"),
           SelectChoice("7", "With extras", render_kw={"data_tone": "red", "disabled": True})]


class Fields:
    """Every kind of field ddsite renders (mixed in below with WTForms' own Meta and with ours)."""

    text = StringField("Sum<mary>", validators=[DataRequired(), Length(max=100, min=2)])
    search = SearchField("Search", render_kw={"placeholder": "Words", "class_": "wide"})
    hidden = HiddenField()
    body = TextAreaField("Details", validators=[Optional()])
    pick = SelectField("Pick", choices=CHOICES, validators=[DataRequired()])
    pick_none = SelectField("None chosen", choices=CHOICES[:3], coerce=str)
    grouped = SelectField("Grouped", choices=[SelectChoice("1", "New", optgroup="Open"),
                                              SelectChoice("6", "Closed", optgroup="Done")])
    many = SelectMultipleField("Many", choices=CHOICES[:4])
    keyed = SelectField("Keyed", choices={"a": "A", "b": "<B>", "": "None"})
    counted = SelectField("Counted", choices=lambda: [(1, "One"), (2, "Two & more")], coerce=int)
    radio = RadioField("Visibility", validators=[DataRequired()],
                       choices=[SelectChoice("internal", "Internal <note>"),
                                SelectChoice("public", HOSTILE)])
    boxes = RefsField("Agents", choices=CHOICES[1:4], render_kw={"data_kind": "agent"})
    plain_boxes = RefsField("Plain", choices=CHOICES)
    required_boxes = RefsField("Required", choices=CHOICES[1:4], validators=[DataRequired()])


class StockForm(Fields, Form):
    """Rendered by WTForms' generic path (the reference)."""


class StockBoxes(Form):
    boxes = SelectMultipleField("Agents", choices=CHOICES[1:4], render_kw={"data_kind": "agent"},
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    plain_boxes = SelectMultipleField("Plain", choices=CHOICES, widget=ListWidget(prefix_label=False),
                                      option_widget=CheckboxInput())
    required_boxes = SelectMultipleField("Required", choices=CHOICES[1:4], validators=[DataRequired()],
                                         widget=ListWidget(prefix_label=False),
                                         option_widget=CheckboxInput())


class FastForm(Fields, Form):
    """Rendered through ddsite.widgets."""

    class Meta(FastRenderMeta):
        pass


DATA = MultiDict([("text", HOSTILE), ("search", 'a"b'), ("hidden", "<x>"), ("body", "line\n<b>"),
                  ("pick", HOSTILE), ("pick_none", "9"), ("grouped", "6"), ("many", "1"),
                  ("keyed", "b"), ("counted", "2"),
                  ("many", HOSTILE), ("radio", "public"), ("boxes", "2"), ("boxes", HOSTILE),
                  ("plain_boxes", HOSTILE), ("plain_boxes", "True"), ("required_boxes", "1")])
RENDER_KW = [{}, {"aria_invalid": "true", "aria_describedby": "x-errors"},
             {"aria_invalid": False, "aria_describedby": False}, {"class_": "a b", "data_x_y": 'q"'},
             {"id": False}, {"id": "other", "value": "<v>"}, {"readonly": True, "title": Markup('m"k')},
             {"required": False}, {"placeholder": None, "maxlength": 0}]


@pytest.mark.parametrize("formdata", [None, DATA], ids=["empty", "submitted"])
@pytest.mark.parametrize("kwargs", RENDER_KW)
@pytest.mark.parametrize("name", [n for n in vars(Fields) if not n.startswith("_")])
def test_every_field_renders_as_wtforms_renders_it(name, kwargs, formdata):
    stock, fast = StockForm(formdata), FastForm(formdata)
    reference = StockBoxes(formdata)[name] if name.endswith("boxes") else stock[name]
    assert str(fast[name](**kwargs)) == str(reference(**kwargs))
    assert str(fast[name].label) == str(stock[name].label)


@pytest.mark.parametrize("formdata", [None, DATA], ids=["empty", "submitted"])
def test_radio_and_checkbox_options_render_as_wtforms_renders_them(formdata):
    for fast_option, stock_option in zip(FastForm(formdata).radio, StockForm(formdata).radio,
                                         strict=True):
        assert str(fast_option()) == str(stock_option())
        assert str(fast_option(aria_describedby="hint")) == str(stock_option(aria_describedby="hint"))
        assert str(fast_option.label) == str(stock_option.label)


class Radios(Form):
    """Radios the way a page may declare them: extra attributes, odd values, no validators."""

    class Meta(FastRenderMeta):
        pass

    dressed = RadioField("Dressed", render_kw={"class_": "r", "data_x": '"q"', "id": "own"},
                         validators=[DataRequired()],
                         choices=[SelectChoice(1, "One"), SelectChoice(HOSTILE, ""),
                                  SelectChoice(None, Markup("<b>bold</b>"))])
    plain = RadioField("Plain", choices=[SelectChoice("a", HOSTILE), SelectChoice("b", "B")],
                       default="b")


OPTION_LOOP = "{% for o in f %}<label>{{ o() }} {{ o.label.text }}</label>{% endfor %}"


@pytest.mark.parametrize("formdata", [None, DATA, MultiDict([("dressed", HOSTILE)])],
                         ids=["empty", "submitted", "hostile chosen"])
def test_labelled_radios_write_what_the_template_loop_over_options_wrote(app, formdata):
    loop = app.jinja_env.from_string(OPTION_LOOP)
    with app.test_request_context("/"):
        note = NoteForm(formdata=formdata)
        fields = [StockForm(formdata).radio, FastForm(formdata).radio, note.visibility,
                  *Radios(formdata)]
        for field in fields:
            assert str(labelled_radios(field)) == loop.render(f=field), field.name
    assert "checked" in str(labelled_radios(note.visibility))


@pytest.mark.parametrize("value", ["", "plain", "assignees-0", "Waiting on client", "é ü 日本", "\x00\n\t",
                                   "&", "<", ">", '"', "'", HOSTILE, Markup('<b>"x"</b>'), 7, None])
def test_a_value_with_nothing_to_escape_is_written_as_escaping_would_write_it(value):
    assert attributes({"value": value}) == f'value="{str(escape(value)).replace(chr(34), "&quot;")}"'


def test_options_written_once_stay_apart_by_type_and_match_wtforms():
    cases = [(1, "One"), ("1", "One"), (1.0, "One"), (True, "One"), ("1", Markup("<b>One</b>")),
             ("1", "<b>One</b>"), ("", ""), (0, ""), (HOSTILE, HOSTILE), (2, 3), ("q", None)]
    for _ in range(2):  # the second round is served from what the first kept
        for value, label in cases:
            for selected in (True, False, 1, 0):
                choice = Choice(value=value, label=label, selected=selected, render_kw=None)
                assert option(choice) == str(Select.render_option(choice)), (value, label)


def test_attributes_are_sorted_cleaned_and_escaped():
    assert attributes({"name": "n", "class_": "c", "aria_described_by": "h", "data_a_b": 1,
                       "checked": True, "hidden": False}) == (
        'aria-described-by="h" checked class="c" data-a-b="1" name="n"')
    assert attributes({"value": HOSTILE}) == (
        'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;x"')
    # Markup is trusted as HTML, but a quote in it must still not end the attribute.
    assert attributes({"title": Markup('<b>"hi"</b>')}) == 'title="<b>&quot;hi&quot;</b>"'
    assert attributes({}) == ""


def test_a_select_shows_the_chosen_option_and_escapes_labels_and_values():
    form = FastForm(MultiDict([("pick", HOSTILE)]))
    html = str(form.pick(aria_invalid="true", aria_describedby="pick-errors"))
    assert html.startswith('<select aria-describedby="pick-errors" aria-invalid="true" id="pick" '
                           'name="pick" required>')
    assert '<option value="">Choose…</option>' in html
    assert '<option value="2">In &lt;progress&gt;</option>' in html
    escaped = "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;x"
    assert f'<option selected value="{escaped}">{escaped}</option>' in html
    assert '<option value="5">5</option>' in html  # no label: the value stands in
    assert '<option value="True">Yes</option>' in html
    assert '<option data-tone="red" disabled value="7">With extras</option>' in html
    assert "<script>" not in html


def test_checkboxes_are_checked_for_the_chosen_items_each_with_its_label():
    form = FastForm(MultiDict([("boxes", "1")]))
    assert str(form.boxes(class_="checks")) == (
        '<ul class="checks" data-kind="agent" id="boxes">'
        '<li><input checked data-kind="agent" id="boxes-0" name="boxes" type="checkbox" value="1"> '
        '<label for="boxes-0">New</label></li>'
        '<li><input data-kind="agent" id="boxes-1" name="boxes" type="checkbox" value="2"> '
        '<label for="boxes-1">In &lt;progress&gt;</label></li>'
        '<li><input data-kind="agent" id="boxes-2" name="boxes" type="checkbox" '
        'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;x"> '
        '<label for="boxes-2">&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;x</label>'
        '</li></ul>')


def test_inputs_carry_flags_booleans_and_aria_and_escape_values():
    form = FastForm(MultiDict([("text", HOSTILE), ("body", "</textarea><b>")]))
    assert str(form.text(aria_invalid="true", aria_describedby=False, disabled=True)) == (
        '<input aria-invalid="true" disabled id="text" maxlength="100" minlength="2" name="text" '
        'required type="text" value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;x">')
    assert str(form.body()) == (
        '<textarea id="body" name="body">\r\n&lt;/textarea&gt;&lt;b&gt;</textarea>')
    assert str(form.hidden(id=False)) == '<input name="hidden" type="hidden" value="">'
    assert str(form.search()) == (
        '<input class="wide" id="search" name="search" placeholder="Words" type="search" value="">')
    assert str(form.text.label) == '<label for="text">Sum&lt;mary&gt;</label>'
    assert isinstance(form.text.label, FastLabel)


def test_a_plain_select_writes_its_options_from_one_walk_of_its_choices():
    form = FastForm(DATA)
    for name in ("pick", "pick_none", "keyed", "counted"):
        assert _plain_select_options(form[name]) is not None, name  # the one-walk path is taken
    assert _plain_select_options(form.grouped) is None  # <optgroup>s
    assert _plain_select_options(form.many) is None  # its own iter_choices: the choices' walk

    class Odd(SelectField):
        def iter_choices(self):
            return [Choice(c.value, c.label.upper(), c.value == "1", None) for c in self.choices]

    class Custom(Form):
        class Meta(FastRenderMeta):
            pass

        odd = Odd(choices=CHOICES[1:3])

    odd = Custom().odd
    assert _plain_select_options(odd) is None
    assert 'selected value="1">NEW</option>' in str(odd())


def test_what_the_fast_path_does_not_copy_goes_to_wtforms():
    form = FastForm()
    assert "<optgroup" in str(form.grouped())  # option groups: WTForms' own widget
    with pytest.raises(TypeError):
        form.text(name="other")  # as WTForms: the field's name is not to be replaced

    class Loud(TextInput):
        def __call__(self, field, **kwargs):
            return Markup("<loud>")

    class Custom(Form):
        class Meta(FastRenderMeta):
            pass

        shout = StringField(widget=Loud())

    assert str(Custom().shout()) == "<loud>"  # a subclass may render differently: left to it
    assert str(FastForm().radio.label(class_="legend")) == '<label class="legend">Visibility</label>'


def test_ddsite_forms_render_as_wtforms_would(app):
    with app.test_request_context("/tech/tickets/1"):
        note = NoteForm(formdata=MultiDict([("visibility", "public"), ("then_status", "2")]))
        note.with_statuses([Ref(1, "New"), Ref("2", "In <progress>")])
        update = UpdateForm(formdata=None).with_choices(
            [Ref(1, "New")], [Ref(3, "High")], [Ref(201, "Sam"), Ref(202, 'Pri"ya')])
        update.assignees.data = ["202"]
        update.status.errors = ["Choose a status."]
        for form in (note, update):
            for field in form:
                for kwargs in ({}, {"aria_invalid": "true", "aria_describedby": "x-errors"}):
                    fast = str(field(**kwargs))
                    assert fast == _stock(field, kwargs), field.name


def _stock(field, kwargs) -> str:
    """What WTForms alone writes for `field` (its checkbox subfields too)."""
    meta, field.meta = field.meta, DefaultMeta()
    try:
        if isinstance(field.widget, CheckboxList):
            return str(ListWidget(prefix_label=False)(field, **kwargs))
        return str(DefaultMeta().render_field(field, kwargs))
    finally:
        field.meta = meta
