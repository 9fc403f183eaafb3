"""The API's refusals and failures, all JSON: {"message": ...} with "problems", "diagnostics"
or "run_id" where they apply (schemas.Error), whatever went wrong and wherever."""

import json
import logging
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

logger = logging.getLogger(__name__)

JSON = "application/json; charset=utf-8"


class ApiError(Exception):
    """A refusal with its status and the body's extra keys (problems, diagnostics, run_id)."""

    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def answer(status: int, message: str, **extra) -> JsonResponse:
    """The JSON of a refusal; extras that are None are left out."""
    body = {"message": message, **{key: value for key, value in extra.items() if value is not None}}
    return JsonResponse(body, status=status, content_type=JSON, json_dumps_params={"ensure_ascii": False})


def not_allowed(method: str, allowed: str) -> JsonResponse:
    response = answer(405, f"{method} is not allowed here; this path takes {allowed}")
    response["Allow"] = allowed
    return response


@csrf_exempt  # it changes nothing: a POST to a mistyped path is a 404 too, not a CSRF page
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ that is not an endpoint."""
    return answer(404, f"no API endpoint at {request.path}: the endpoints are listed at /api/v1/docs")


def json_not_allowed(view):
    """The view, with ninja's plain-text 405 (a method the path does not take) made JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return not_allowed(request.method, response.get("Allow", ""))
        return response

    return wrapper


class NotAnObject(ValueError):
    pass


class JsonBody(Parser):
    """The body as a JSON object, or an error that says why not: ninja answers it as a 400
    whose cause is this ValueError (on_http_error shows it)."""

    def parse_body(self, request: HttpRequest) -> dict:
        try:
            body = json.loads(request.body)
        except RecursionError as err:
            raise ValueError("nested too deeply") from err
        if not isinstance(body, dict):
            raise NotAnObject("the body must be a JSON object")
        return body


def limit_body(run):
    """Refuse a body over WORKFLOW_API_MAX_BODY_BYTES with 413 before anything parses it:
    by its Content-Length when it has one, else (chunked) by what arrives."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        limit = settings.WORKFLOW_API_MAX_BODY_BYTES
        too_big = answer(413, f"the body is larger than {limit} bytes")
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > limit:
            return too_big
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                if len(request.body) > limit:
                    return too_big
            except RequestDataTooBig:  # over Django's own DATA_UPLOAD_MAX_MEMORY_SIZE
                return too_big
            except OSError as err:  # the client went away mid-body (UnreadablePostError)
                return answer(400, f"the body could not be read: {err}")
        return run(request, *args, **kwargs)

    return wrapper


def install(api: NinjaAPI) -> None:
    """Make every refusal and failure of `api` JSON, and its bodies bounded."""
    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(Exception, on_unexpected)
    api.add_decorator(limit_body, mode="view")


def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return answer(exc.status, exc.message, **exc.extra)


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if isinstance(exc.__cause__, NotAnObject):
        message = str(exc.__cause__)
    elif exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        message = f"the body is not valid JSON: {exc.__cause__}"
    response = answer(exc.status_code, message)
    if isinstance(exc, AuthenticationError):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [_problem(error) for error in exc.errors]
    return answer(422, f"the request does not fit: {problems[0]}", problems=problems)


def _problem(error: dict) -> str:
    # ("body", "body", "input") -> "body input": where in the request, as the client named it.
    location = error.get("loc", ("request",))
    where = ".".join(str(part) for part in location[1:] if part not in ("body", "query", "path", "header"))
    return f"{' '.join(filter(None, [str(location[0]), where]))}: {error.get('msg', 'invalid')}"


def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return answer(404, str(exc) or "not found")


def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("API request %s %s failed", request.method, request.path, exc_info=exc)
    return answer(500, "the server failed to answer this request; the error is in its log")
