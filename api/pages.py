"""The dashboard's API pages: /tokens/ (your personal API tokens) and a flow's webhook.

A secret (token or webhook URL) is shown once, on the answer to the POST that made it, and
never again: only its digest is stored. Those answers are not cached.
"""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from api import webhooks
from api.models import ApiToken
from api.tokens import create_token, revoke
from flows import access
from flows.access import login_required


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, strip=True)
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)


def _see_other(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303  # after a POST: a reload never re-posts
    return response


def _once(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """A page showing a secret: never stored by a cache, never shown again."""
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    # The dashboard is for staff; each person sees and revokes only their own tokens, staff
    # and superusers included (the admin lists everyone's).
    access.check(request)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        token, secret = create_token(
            request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
        )
        context = {"token": token, "secret": secret, "section": "tokens"}
        return _once(request, "api/token_created.html", context)
    context = {
        "form": form if form.is_bound else TokenForm(),
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-id"),
        "section": "tokens",
    }
    return render(request, "api/tokens.html", context, status=400 if form.is_bound else 200)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    access.check(request)
    token = ApiToken.objects.filter(pk=token_id, user=request.user).first()
    if token is None:
        raise Http404(f"You have no token {token_id}.")
    if token.revoked_at is None:
        revoke(token)
        messages.success(request, f"Token {token.prefix}… revoked: it no longer works.")
    return _see_other(reverse("wf-tokens"))


@login_required
@require_POST
def flow_hook(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, access.CHANGE_FLOWS, deleted=None)
    back = reverse("wf-flow", args=[flow.flow_name])
    action = request.POST.get("action", "")
    if action == "remove":
        if webhooks.remove(flow.pk):
            messages.success(request, "Webhook removed: its URL no longer starts runs.")
        return _see_other(back)
    if action not in ("create", "rotate"):
        messages.error(request, "Unknown webhook action.")
        return _see_other(back)
    if flow.deleted:
        messages.error(request, "A deleted flow cannot get a webhook URL: restore it first.")
        return _see_other(back)
    hook, secret = webhooks.rotate(flow.pk, created_by=request.user.get_username())
    url = request.build_absolute_uri(reverse("wf-hook", args=[secret]))
    context = {"flow": flow, "hook": hook, "url": url, "rotated": action == "rotate", "back": back}
    return _once(request, "api/flow_hook_created.html", context)
