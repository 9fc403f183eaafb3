"""http.Http.request against a real HTTP server on 127.0.0.1 (tests/builtin/conftest.py)."""

import json
import time

import pytest

from builtin._checks import ParamError
from builtin.http.Http import Http, HttpConnectionError, HttpStatusError, HttpTimeout
from tests.factories import make_flow, step


@pytest.fixture
def request_(logger):
    def call(**params) -> dict:
        return Http(logger).request({}, params)

    return call


def test_a_get_returns_status_headers_and_the_json_body(request_, http_server):
    answer = request_(url=f"{http_server}/echo", query={"q": "a b", "n": [1, 2]}, headers={"X-Key": "k"})

    assert answer["status"] == 200
    assert answer["headers"]["x-test"] == "yes"
    assert answer["json"]["method"] == "GET"
    assert answer["json"]["query"] == {"q": ["a b"], "n": ["1", "2"]}
    assert answer["json"]["headers"]["x-key"] == "k"
    assert (answer["text"], answer["truncated"]) == (None, False)
    assert answer["url"].startswith(f"{http_server}/echo?")


def test_a_json_body_is_sent_as_json(request_, http_server):
    answer = request_(method="post", url=f"{http_server}/echo", json={"a": [1, "é"]})

    assert answer["json"]["method"] == "POST"
    assert answer["json"]["headers"]["content-type"] == "application/json"
    assert json.loads(answer["json"]["body"]) == {"a": [1, "é"]}


def test_a_form_body_is_sent_as_a_form(request_, http_server):
    answer = request_(method="PUT", url=f"{http_server}/echo", form={"name": "Ann", "tags": ["x", "y"]})

    assert answer["json"]["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert answer["json"]["body"] == "name=Ann&tags=x&tags=y"


def test_json_and_form_together_are_refused(request_, http_server):
    with pytest.raises(ParamError, match="json and form are two kinds of body"):
        request_(method="POST", url=f"{http_server}/echo", json={}, form={"a": "b"})


def test_a_text_body_is_read_in_its_charset(request_, http_server):
    answer = request_(url=f"{http_server}/text")

    assert (answer["json"], answer["text"]) == (None, "héllo")


def test_a_body_over_the_limit_is_cut_and_says_so(request_, http_server, settings):
    settings.WORKFLOW_HTTP_MAX_RESPONSE_BYTES = 10_000

    answer = request_(url=f"{http_server}/big/1000000")

    assert answer["truncated"] is True
    assert answer["text"] == "x" * 10_000
    assert answer["json"] is None  # cut JSON is no JSON


def test_a_body_exactly_at_the_limit_is_whole(request_, http_server, settings):
    settings.WORKFLOW_HTTP_MAX_RESPONSE_BYTES = 10_000

    answer = request_(url=f"{http_server}/big/10000")

    assert (answer["truncated"], len(answer["text"])) == (False, 10_000)


def test_the_limit_counts_the_decompressed_body(request_, http_server, settings):
    settings.WORKFLOW_HTTP_MAX_RESPONSE_BYTES = 1000

    answer = request_(url=f"{http_server}/gzip/5000000")

    assert (answer["truncated"], answer["text"]) == (True, "y" * 1000)


def test_a_redirect_is_followed_and_the_final_url_returned(request_, http_server):
    answer = request_(url=f"{http_server}/redirect")

    assert answer["status"] == 200
    assert answer["url"] == f"{http_server}/echo?redirected=1"


def test_an_unexpected_status_fails_with_the_start_of_the_body(request_, http_server):
    with pytest.raises(HttpStatusError) as raised:
        request_(url=f"{http_server}/status/503")

    assert raised.value.status == 503
    assert str(raised.value) == (
        f"GET {http_server}/status/503 answered 503 Service Unavailable, expected 2xx: status 503 says no"
    )


def test_expect_accepts_the_statuses_it_lists(request_, http_server):
    answer = request_(url=f"{http_server}/status/404", expect=[200, 404])

    assert (answer["status"], answer["text"]) == (404, "status 404 says no")
    with pytest.raises(HttpStatusError, match="answered 200 OK, expected 201"):
        request_(url=f"{http_server}/echo", expect=[201])


def test_a_slow_server_times_out_with_a_timeout_error(request_, http_server):
    began = time.monotonic()
    with pytest.raises(HttpTimeout, match=r"GET .*/slow/3 timed out after 0.5 s") as raised:
        request_(url=f"{http_server}/slow/3", timeout=0.5)

    assert time.monotonic() - began < 2
    assert isinstance(raised.value, TimeoutError)  # what a retry policy's "on" can name


def test_a_refused_connection_is_a_connection_error(request_, closed_port):
    with pytest.raises(
        HttpConnectionError, match=f"GET http://127.0.0.1:{closed_port}/x: cannot connect"
    ) as e:
        request_(url=f"http://127.0.0.1:{closed_port}/x")

    assert isinstance(e.value, ConnectionError)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "/relative/path", "http://", "example.com"]
)
def test_only_absolute_http_urls_are_allowed(request_, url):
    with pytest.raises(ParamError, match="url must be an absolute http:// or https:// URL"):
        request_(url=url)


def test_credentials_in_the_url_stay_out_of_the_messages(request_, closed_port):
    with pytest.raises(HttpConnectionError) as raised:
        request_(url=f"http://user:secret@127.0.0.1:{closed_port}/x")

    assert "secret" not in str(raised.value)


def test_a_nan_in_a_json_answer_leaves_it_as_text(request_, http_server):
    answer = request_(url=f"{http_server}/nan")

    assert (answer["json"], answer["text"]) == (None, '{"value": NaN}')


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"method": "BREW"}, "param method must be one of GET, POST"),
        ({"timeout": 0}, "param timeout must be between"),
        ({"timeout": "5"}, "param timeout must be a number, not a string"),
        ({"expect": [700]}, "param expect: 700 is not a status code"),
        ({"expect": 200}, "param expect must be a non-empty array"),
        ({"headers": {"X": {"a": 1}}}, "param headers: the value of X must be a string or a number"),
        ({"query": ["a"]}, "param query must be an object, not an array"),
    ],
)
def test_unusable_params_are_named_in_the_error(request_, http_server, params, message):
    with pytest.raises(ParamError, match=message):
        request_(url=f"{http_server}/echo", **params)


@pytest.mark.django_db(transaction=True)
def test_a_flow_uses_the_answer_in_a_later_step(execute, http_server):
    flow = make_flow(
        "calls",
        step("ask", "request", "http.Http", url=f"{http_server}/echo", query={"who": "Ann"}),
        step("say", msg="@ask.json.query.who"),
    )

    run = execute(flow)

    assert run.status == "succeeded", run.error
    assert run.context["ask"]["status"] == 200
    assert run.context["say"] == {"msg": ["Ann"]}
