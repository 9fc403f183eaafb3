"""The Secrets page's forms. A value is write-only: its field never renders what was typed,
not even after an error."""

from django import forms
from django.core.exceptions import ValidationError

from vault import store
from vault.models import Secret

DESCRIPTION_CHARS = Secret._meta.get_field("description").max_length


def _value_field(required: bool, help_text: str) -> forms.CharField:
    return forms.CharField(
        max_length=store.MAX_VALUE,
        required=required,
        help_text=help_text,
        # Never rendered back; "new-password" keeps browsers from filling in a saved login.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class AddSecretForm(forms.Form):
    name = forms.CharField(max_length=store.MAX_NAME, help_text="letters, digits and underscores")
    value = _value_field(True, "stored encrypted; never shown again")
    description = forms.CharField(max_length=DESCRIPTION_CHARS, required=False)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if problem := store.name_problem(name):
            raise ValidationError(problem)
        return name


class ReplaceSecretForm(forms.Form):
    value = _value_field(False, "leave empty to keep the current value")
    description = forms.CharField(max_length=DESCRIPTION_CHARS, required=False)
