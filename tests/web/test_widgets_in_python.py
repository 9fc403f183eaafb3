"""flows.forms.WidgetsInPython writes <input> and <select> widgets as Django's templates do."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from flows.forms import LogFilterForm, WidgetsInPython


class Widgets(forms.Form):
    text = forms.CharField(
        max_length=20,
        widget=forms.TextInput(
            attrs={"placeholder": 'a "quoted" <hint>', "autofocus": True, "spellcheck": False}
        ),
    )
    number = forms.IntegerField(min_value=1, max_value=9, required=False)
    when = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    flag = forms.BooleanField(required=False)
    search = forms.CharField(required=False, widget=forms.SearchInput)
    choice = forms.ChoiceField(
        required=False,
        choices=[
            ("", "none"),
            ("Fruit & <veg>", [("a", "Apple & <pear>"), ("b", gettext_lazy("Banana"))]),
            (3, 3),
        ],
        widget=forms.Select(attrs={"disabled": True}),
    )
    # Widgets it leaves to their templates.
    radio = forms.ChoiceField(required=False, choices=[("x", "X <1>"), ("y", "Y")], widget=forms.RadioSelect)
    area = forms.CharField(required=False, widget=forms.Textarea)


DATA = [
    {},
    {
        "text": '"><script>alert(1)</script>',
        "number": "12",
        "when": "not a date",
        "hidden": "&amp;",
        "flag": "on",
        "search": "x y",
        "choice": "b",
        "radio": "x",
        "area": "<b>",
    },
    {"text": mark_safe("<b>marked safe</b>"), "number": "3", "when": "2025-03-01T13:00", "choice": "3"},
    {
        "level": "ERROR",
        "logger": "<x>",
        "run": "abc",
        "q": "\"'<>&",
        "since": "zz",
        "tz": "Europe/Paris",
        "tail": "1",
    },
    {"level": "nope", "run": "7", "until": "2025-03-01T13:00:05", "before": "10"},
]


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("form_class", [Widgets, LogFilterForm])
def test_the_widgets_read_as_their_templates_write_them(form_class, data):
    python, templates = (
        form_class(data, renderer=WidgetsInPython()),
        form_class(data, renderer=DjangoTemplates()),
    )
    assert python.is_valid() == templates.is_valid()

    for name in python.fields:
        assert str(python[name]) == str(templates[name])


def test_the_log_filters_use_it():
    assert isinstance(LogFilterForm({}).renderer, WidgetsInPython)
