"""/channels/: the notification channels (add, test, remove) and their recent deliveries.

Seeing the page takes the dashboard's view permission; changing or testing a channel takes
"manage channels" (alerts.manage_channels), apart from editing flows. URLs are shown masked.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from alerts import channels
from alerts.models import Channel, DeliveryAttempt
from flows import access
from flows.access import login_required

MANAGE_CHANNELS = "alerts.manage_channels"
RECENT_DELIVERIES = 50


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=64, strip=True)
    url = forms.CharField(label="Apprise URL", max_length=channels.MAX_URL, strip=True)


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    masked_url: str


def _page(request: HttpRequest, form: ChannelForm, status: int = 200) -> HttpResponse:
    rows = [ChannelRow(c, channels.masked(c.url)) for c in Channel.objects.order_by("name")]
    deliveries = DeliveryAttempt.objects.select_related("notification").order_by("-id")[:RECENT_DELIVERIES]
    context = {
        "rows": rows,
        "form": form,
        "deliveries": deliveries,
        "can_manage": request.user.has_perm(MANAGE_CHANNELS),
        "section": "channels",
    }
    return render(request, "alerts/channels.html", context, status=status)


def _see_other() -> HttpResponse:
    response = redirect(reverse("wf-channels"))
    response.status_code = 303  # after a POST: a reload never re-posts
    return response


def _get_channel(request: HttpRequest, channel_id: int) -> Channel:
    access.check(request, access.VIEW_FLOWS, MANAGE_CHANNELS)
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise Http404(f"No channel {channel_id}.")
    return channel


@login_required
@require_GET
def channel_list(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    return _page(request, ChannelForm())


@login_required
@require_POST
def channel_add(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS, MANAGE_CHANNELS)
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel = channels.add(
                form.cleaned_data["name"], form.cleaned_data["url"], created_by=request.user.get_username()
            )
        except channels.ChannelError as err:
            form.add_error(None, str(err))
        else:
            messages.success(request, f"Channel {channel.name!r} added: {channels.masked(channel.url)}")
            return _see_other()
    return _page(request, form, status=400)


@login_required
@require_POST
def channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _get_channel(request, channel_id)
    sent = channels.send_test(channel.name)
    if sent.ok:
        messages.success(request, f"Test message delivered to {channel.name!r}.")
    else:
        messages.error(request, f"Test message to {channel.name!r} failed: {sent.error}")
    return _see_other()


@login_required
@require_POST
def channel_remove(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _get_channel(request, channel_id)
    try:
        channels.remove(channel.name)
    except channels.ChannelError as err:
        messages.error(request, f"Channel {channel.name!r} was not removed: {err}")
    else:
        messages.success(request, f"Channel {channel.name!r} removed.")
    return _see_other()
