"""Who may do what on the dashboard: staff only, then one permission per action.

Views call one of these helpers on their first line; a refusal is a 403, never just a
hidden button.
"""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required as django_login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from flows.models import Flow
from runner.models import Run
from schedules.models import Schedule

VIEW_FLOWS = "flows.view_flow"
CHANGE_FLOWS = "flows.change_flow"
RUN_FLOWS = "flows.run_flow"
VIEW_LOGS = "flows.view_syslog"


def check(request: HttpRequest, *perms: str) -> None:
    """Raise PermissionDenied unless the (logged-in) user is staff with every permission."""
    user = request.user
    if not user.is_staff:
        raise PermissionDenied("The dashboard is for staff users.")
    missing = [perm for perm in perms if not user.has_perm(perm)]
    if missing:
        raise PermissionDenied(f"Missing permission: {', '.join(missing)}.")


def get_flow(request: HttpRequest, name: str, *perms: str, deleted: bool | None = False) -> Flow:
    """The flow called name after checking access; deleted=None finds deleted ones too."""
    check(request, VIEW_FLOWS, *perms)
    flows = Flow.all_objects.filter(flow_name=name)
    if deleted is not None:
        flows = flows.filter(deleted=deleted)
    flow = flows.first()
    if flow is None:
        raise Http404(f"No flow named {name!r}.")
    return flow


def get_run(request: HttpRequest, run_id: int, *perms: str) -> Run:
    check(request, VIEW_FLOWS, *perms)
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404(f"No run {run_id}.")
    return run


def get_schedule(request: HttpRequest, schedule_id: int, *perms: str) -> Schedule:
    check(request, VIEW_FLOWS, *perms)
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404(f"No schedule {schedule_id}.")
    return schedule


def login_required(view):
    """django's login_required, except that an HTMX request whose session ended gets the
    whole page sent to the login form instead of a login form swapped into a fragment."""
    guarded = django_login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.htmx and not request.user.is_authenticated:
            back = urlencode({"next": request.htmx.current_url_abs_path or "/"})
            return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{back}")
        return guarded(request, *args, **kwargs)

    return wrapper
