"""Is anyone there: /workers/ (a dashboard page), /health (load balancers) and /metrics
(Prometheus). The last two need no login: /health says nothing secret, /metrics wants the
bearer token WORKFLOW_METRICS_TOKEN, or, when none is set, a request from this machine."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flows import access
from flows.access import login_required
from runner import liveness, metrics

LOOPBACK = ("127.0.0.1", "::1")
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@login_required
@require_GET
def workers(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    now = timezone.now()
    rows = [(row, liveness.is_stale(row, now)) for row in liveness.processes()]
    context = {
        "rows": rows,
        "alive_seconds": liveness.ALIVE_SECONDS,
        "forget_minutes": liveness.FORGET_SECONDS // 60,
        "section": "workers",
    }
    return render(request, "flows/workers.html", context)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    report = liveness.health()
    body = {
        "status": "fail" if report.reasons else "ok",
        "database": report.database,
        "workers_alive": report.workers_alive,
        "scheduler_alive": report.scheduler_alive,
        "oldest_queued_run_age_seconds": report.oldest_queued_seconds,
        "reasons": report.reasons,
    }
    return JsonResponse(body, status=503 if report.reasons else 200)


@never_cache
@require_GET
def prometheus(request: HttpRequest) -> HttpResponse:
    if refusal := _metrics_refusal(request):
        return refusal
    return HttpResponse(generate_latest(metrics.registry()), content_type=CONTENT_TYPE_LATEST)


def _metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    token = settings.WORKFLOW_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return None
        response = HttpResponse("A bearer token is required (WORKFLOW_METRICS_TOKEN).\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # Behind a proxy on this machine every request comes from 127.0.0.1: one that says it
    # was forwarded is not local, whatever its address.
    forwarded = any(header in request.headers for header in FORWARDING_HEADERS)
    if request.META.get("REMOTE_ADDR") in LOOPBACK and not forwarded:
        return None
    return HttpResponse(
        "/metrics answers only 127.0.0.1 and ::1 while WORKFLOW_METRICS_TOKEN is unset.\n", status=403
    )
