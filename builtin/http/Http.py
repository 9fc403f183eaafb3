"""HTTP requests from a flow, with httpx."""

import codecs
import json
import time

import httpx
from django.conf import settings

from builtin._checks import ParamError, mapping, number, text
from runner.engine.declare import param, procedure, result

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DEFAULT_TIMEOUT = 30
MAX_TIMEOUT = 3600
QUOTED_BODY = 500  # characters of an unexpected answer's body quoted in the error
_SCALARS = (str, int, float, bool)
_NOT_JSON = object()


class HttpError(Exception):
    """A request that got no accepted answer."""


class HttpTimeout(HttpError, TimeoutError):
    """No answer in time: a retry policy's "on": ["TimeoutError"] retries it."""


class HttpConnectionError(HttpError, ConnectionError):
    """The server could not be reached: "on": ["ConnectionError"] retries it."""


class HttpStatusError(HttpError):
    """An answer whose status is not expected; `status` is the status code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Http:
    def __init__(self, logger) -> None:
        self.logger = logger

    @procedure(
        "Send an HTTP request and return the answer: status, headers, and JSON or text.",
        params={
            "url": param("string", required=True, description="absolute http:// or https:// URL"),
            "method": param("string", default="GET", choices=METHODS),
            "headers": param("object", description="header name -> value"),
            "query": param("object", description="query string parameters, name -> value or list of values"),
            "json": param("any", description="a body sent as JSON (not with form)"),
            "form": param("object", description="a body sent as an HTML form, name -> value (not with json)"),
            "timeout": param(
                "number",
                default=DEFAULT_TIMEOUT,
                description="seconds to connect, for each read, and overall",
            ),
            "expect": param("array", description="the accepted status codes; by default any 2xx"),
        },
        results={
            "status": result("integer", "the status code"),
            "headers": result("object", "the response headers, names in lower case"),
            "json": result("any", "the body read as JSON when the response is JSON, else null"),
            "text": result("string", "the body as text when it is not JSON, else null"),
            "truncated": result("boolean", "true when the body was longer than the limit and was cut"),
            "url": result("string", "the URL that answered (after redirects)"),
        },
    )
    def request(self, context, params: dict) -> dict:
        method = text(params, "method", default="GET").upper()
        if method not in METHODS:
            raise ParamError(f"param method must be one of {', '.join(METHODS)}, not {method!r}")
        url = _url(text(params, "url", required=True))
        shown = f"{method} {url.copy_with(username=None, password=None)}"
        timeout = number(params, "timeout", default=DEFAULT_TIMEOUT, minimum=0.001, maximum=MAX_TIMEOUT)
        expected = _expected(params.get("expect"))
        request = {"headers": _headers(params), "params": _fields(params, "query"), **_body(params)}
        limit = settings.WORKFLOW_HTTP_MAX_RESPONSE_BYTES
        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=True) as client,
                client.stream(method, url, **request) as response,
            ):
                body, truncated = _read(response, limit, time.monotonic() + timeout)
        except httpx.TimeoutException as err:
            raise HttpTimeout(f"{shown} timed out after {timeout:g} s") from err
        except (httpx.ConnectError, httpx.ProxyError) as err:
            raise HttpConnectionError(f"{shown}: cannot connect: {err}") from err
        except httpx.HTTPError as err:
            raise HttpError(f"{shown} failed: {type(err).__name__}: {err}") from err
        content = body.decode(_encoding(response), errors="replace")
        status = response.status_code
        self.logger.info(
            "%s answered %s (%d bytes%s)", shown, status, len(body), ", cut" if truncated else ""
        )
        if status not in expected[0]:
            quoted = content[:QUOTED_BODY] + ("…" if len(content) > QUOTED_BODY or truncated else "")
            message = f"{shown} answered {status} {response.reason_phrase}, expected {expected[1]}"
            raise HttpStatusError(f"{message}: {quoted}" if quoted else message, status)
        data = _json(response, content) if not truncated else _NOT_JSON
        return {
            "status": status,
            "headers": dict(response.headers.items()),
            "json": None if data is _NOT_JSON else data,
            "text": content if data is _NOT_JSON else None,
            "truncated": truncated,
            "url": str(response.url.copy_with(username=None, password=None)),
        }


def _url(value: str) -> httpx.URL:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as err:
        raise ParamError(f"param url is not a valid URL: {err}") from err
    if url.scheme not in ("http", "https") or not url.host:
        raise ParamError(f"param url must be an absolute http:// or https:// URL, not {value!r}")
    return url


def _expected(value) -> tuple[frozenset[int], str]:
    """The accepted status codes and how to say them."""
    if value is None:
        return frozenset(range(200, 300)), "2xx"
    if not isinstance(value, list) or not value:
        raise ParamError("param expect must be a non-empty array of status codes")
    for code in value:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise ParamError(f"param expect: {code!r} is not a status code (100 to 599)")
    return frozenset(value), ", ".join(map(str, value))


def _headers(params: dict) -> dict[str, str]:
    headers = mapping(params, "headers")
    for name, value in headers.items():
        if not isinstance(value, _SCALARS) or isinstance(value, bool):
            raise ParamError(f"param headers: the value of {name} must be a string or a number")
    return {name: str(value) for name, value in headers.items()}


def _fields(params: dict, name: str) -> dict:
    """The query string or the form: name -> a value or a list of values."""
    fields = mapping(params, name)
    for key, value in fields.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, _SCALARS) for v in values):
            raise ParamError(f"param {name}: the value of {key} must be a string, a number or a list of them")
    return fields


def _body(params: dict) -> dict:
    sent_json, form = params.get("json"), params.get("form")
    if sent_json is not None and form is not None:
        raise ParamError("params json and form are two kinds of body: give one of them")
    if form is not None:
        return {"data": _fields(params, "form")}
    return {} if sent_json is None else {"json": sent_json}


def _read(response: httpx.Response, limit: int, deadline: float) -> tuple[bytes, bool]:
    """The body, at most `limit` bytes of it (decompressed), and whether it was cut."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the whole answer took too long", request=response.request)
    return b"".join(chunks), False


def _encoding(response: httpx.Response) -> str:
    # A charset the server names but Python does not know: read as UTF-8.
    try:
        return codecs.lookup(response.encoding or "utf-8").name
    except LookupError:
        return "utf-8"


def _json(response: httpx.Response, content: str):
    """The body read as JSON, or _NOT_JSON when it is not (by its type, or by its text)."""
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if not (kind == "application/json" or kind.endswith("+json")):
        return _NOT_JSON
    try:
        # NaN and Infinity are not JSON, and could not be stored: such a body stays text.
        return json.loads(content, parse_constant=_not_json)
    except ValueError:
        return _NOT_JSON


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")
