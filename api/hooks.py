"""POST /hooks/<secret>: a flow's inbound webhook; the JSON body is the run's input.

The secret in the path is the only credential (no session, so no CSRF). Every answer is
JSON: 202 with the queued run, else {"message": ...} and a status that says why.
"""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from api import webhooks
from flows.models import Flow
from runner import dispatch, services


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"message": message, **extra}, status=status)


def _too_big() -> JsonResponse:
    return _error(413, f"the body is larger than {settings.WORKFLOW_API_MAX_BODY_BYTES} bytes")


@csrf_exempt
def receive(request: HttpRequest, secret: str) -> JsonResponse:
    if request.method != "POST":
        response = _error(405, "a webhook takes POST only")
        response["Allow"] = "POST"
        return response
    hook = webhooks.find(secret)
    if hook is None:
        return _error(404, "no webhook at this address")
    retry_after = webhooks.count_hit(hook)
    if retry_after:
        response = _error(
            429, f"too many requests: at most {settings.WORKFLOW_HOOK_RATE_PER_MINUTE} a minute per webhook"
        )
        response["Retry-After"] = str(retry_after)
        return response
    input, problem = _input(request)
    if problem is not None:
        return problem
    flow = Flow.all_objects.filter(pk=hook.flow_id).first()
    if flow is None:
        return _error(404, "the flow of this webhook no longer exists")
    try:
        services.ensure_runnable(flow)
    except services.CannotStart as err:
        return _error(409, str(err))
    return _start(flow, input)


def _input(request: HttpRequest) -> tuple[dict, JsonResponse | None]:
    """The run input the body holds, or the answer refusing it."""
    # Refused before reading when the client says how big it is; a chunked body is measured.
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > settings.WORKFLOW_API_MAX_BODY_BYTES:
        return {}, _too_big()
    try:
        body = request.body
    except RequestDataTooBig:
        return {}, _too_big()
    if len(body) > settings.WORKFLOW_API_MAX_BODY_BYTES:
        return {}, _too_big()
    if not body.strip():
        return {}, None
    try:
        input = json.loads(body)
    except (ValueError, RecursionError) as err:
        return {}, _error(400, f"the body is not valid JSON: {err}")
    if not isinstance(input, dict):
        return {}, _error(400, "the body must be a JSON object (or empty)")
    return input, None


def _start(flow: Flow, input: dict) -> JsonResponse:
    if problem := services.input_problem(input):
        return _error(422, problem, problems=[problem])
    try:
        run = dispatch.start_run(flow, input=input, trigger="webhook", triggered_by="webhook")
    except services.BadInput as err:
        return _error(422, str(err), problems=err.problems)
    except services.Skipped as err:
        return _error(409, str(err), run_id=err.active_run_id)
    except services.CannotStart as err:
        # As the API's start: an invalid definition is 422; the input was checked above, so
        # anything else is the queue refusing the run, which the caller may retry later.
        return _error(422 if err.diagnostics else 503, str(err))
    return JsonResponse({"run_id": run.pk, "status": run.status}, status=202)
