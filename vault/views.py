"""/secrets/: the secrets flows reference as "@_secret.NAME" (list, add, replace, delete).

Every page and action takes staff and the permission vault.manage_secret, apart from the
dashboard's other permissions. Values are write-only: no page shows one, nor its length.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flows import access
from flows.access import login_required
from vault import store
from vault.forms import AddSecretForm, ReplaceSecretForm

MANAGE_SECRETS = "vault.manage_secret"


def _see_other(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303  # after a POST: a reload never re-posts
    return response


def _page(request: HttpRequest, form: AddSecretForm, status: int = 200) -> HttpResponse:
    context = {
        "entries": store.entries(),
        "form": form,
        "key_problem": store.key_problem(),
        "env_prefix": store.ENV_PREFIX,
        "section": "secrets",
    }
    return render(request, "vault/secrets.html", context, status=status)


def _table_entry(request: HttpRequest, name: str) -> store.Entry:
    access.check(request, MANAGE_SECRETS)
    entry = next((e for e in store.entries() if e.name == name and e.source == "table"), None)
    if entry is None:
        raise Http404(f"The table has no secret named {name!r}.")
    return entry


@login_required
@require_GET
def secret_list(request: HttpRequest) -> HttpResponse:
    access.check(request, MANAGE_SECRETS)
    return _page(request, AddSecretForm())


@login_required
@require_POST
def secret_add(request: HttpRequest) -> HttpResponse:
    access.check(request, MANAGE_SECRETS)
    form = AddSecretForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            store.add(
                data["name"], data["value"], description=data["description"], by=request.user.get_username()
            )
        except store.SecretsError as err:
            form.add_error(None, str(err))
        else:
            messages.success(
                request, f'Secret {data["name"]} added: flows use it as "@_secret.{data["name"]}".'
            )
            return _see_other(reverse("wf-secrets"))
    return _page(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def secret_edit(request: HttpRequest, name: str) -> HttpResponse:
    entry = _table_entry(request, name)
    if request.method == "GET":
        form = ReplaceSecretForm(initial={"description": entry.description})
    else:
        form = ReplaceSecretForm(request.POST)
        if form.is_valid():
            value = form.cleaned_data["value"] or None
            try:
                store.replace(
                    name,
                    value,
                    description=form.cleaned_data["description"],
                    by=request.user.get_username(),
                )
            except store.SecretsError as err:
                form.add_error(None, str(err))
            else:
                what = "value and description" if value is not None else "description"
                messages.success(request, f"Secret {name}: {what} saved.")
                return _see_other(reverse("wf-secrets"))
    context = {
        "entry": entry,
        "form": form,
        "key_problem": store.key_problem(),
        "env_prefix": store.ENV_PREFIX,
        "section": "secrets",
    }
    status = 400 if form.is_bound else 200
    return render(request, "vault/secret.html", context, status=status)


@login_required
@require_POST
def secret_delete(request: HttpRequest, name: str) -> HttpResponse:
    _table_entry(request, name)
    try:
        store.delete(name)
    except store.SecretsError as err:
        messages.error(request, f"Secret {name} was not deleted: {err}")
    else:
        messages.success(request, f"Secret {name} deleted: runs that reference it now fail at that step.")
    return _see_other(reverse("wf-secrets"))
