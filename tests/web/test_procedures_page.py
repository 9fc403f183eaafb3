"""/procedures/ and /procedures/catalogue.json: the procedure catalogue for people and for
the editor's completion."""

import re
from html import unescape

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import ALL_PERMS, client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def packages(settings):
    # The seed's package and the engine tests' fixture package (declared procedures, and
    # modules that cannot be imported).
    settings.WORKFLOW_PROCEDURE_PACKAGES = ["mod", "tests.engine.procs"]


def article(html: str, mod: str, method: str) -> str:
    """The page's block for one procedure."""
    for block in re.findall(r"<article .*?</article>", html, re.S):
        if f'<code>{mod}</code> <span class="muted">·</span> <code>{method}</code>' in block:
            return block
    raise AssertionError(f"{mod}.{method} is not on the page")


def catalogue(client) -> list[dict]:
    response = client.get("/procedures/catalogue.json")
    assert response.status_code == 200
    return response.json()["procedures"]


def test_the_page_lists_every_procedure_of_the_packages(client):
    html = client.get("/procedures/").content.decode()

    for mod, method in (
        ("common.Kt", "prt"),
        ("common.Text", "fill"),
        ("Declared", "greet"),
        ("sub.Deep", "where"),
    ):
        article(html, mod, method)


def test_the_page_is_the_procedures_section_of_the_nav(client):
    assertContains(client.get("/procedures/"), 'href="/procedures/" aria-current="page"')


def test_the_seeds_undeclared_kt_is_shown_without_params_or_result_keys(client):
    kt = article(client.get("/procedures/").content.decode(), "common.Kt", "prt")

    assert 'class="muted procedure-undeclared">Params and result keys not declared' in kt
    assert "procedure-params" not in kt and "procedure-results" not in kt


def test_a_procedure_shows_its_docstring(client):
    greet = article(client.get("/procedures/").content.decode(), "Declared", "greet")

    assert '<p class="procedure-summary">Greets someone by name.</p>' in greet
    assert "The greeting is repeated ``times`` times." in greet


def test_declared_params_show_type_required_default_choices_and_description(client):
    greet = article(client.get("/procedures/").content.decode(), "Declared", "greet")
    body = greet.partition("<tbody>")[2].partition("</tbody>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    text = [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip() for row in rows]

    assert text == [
        "who string required — whom to greet",
        'greeting string one of "Hello" , "Hi" optional "Hello"',
        "times integer optional 1",
    ]


def test_declared_result_keys_are_shown(client):
    greet = article(client.get("/procedures/").content.decode(), "Declared", "greet")

    assert '<li><code>msg</code> <span class="muted">string</span>: the greeting</li>' in greet
    assert '<li><code>count</code> <span class="muted">integer</span></li>' in greet


def test_each_procedure_has_its_step_snippet_and_a_copy_button_for_the_script(client):
    greet = article(client.get("/procedures/").content.decode(), "Declared", "greet")

    snippet = re.search(r'<pre id="(snippet-\d+)"><code>(.*?)</code></pre>', greet, re.S)
    assert "&quot;mod&quot;: &quot;Declared&quot;" in snippet.group(2)
    assert f'data-copy="{snippet.group(1)}" hidden>Copy</button>' in greet


def test_the_page_loads_its_script_from_a_static_file_and_has_no_inline_script(client):
    html = client.get("/procedures/").content.decode()

    assert re.search(r'<script src="/static/js/procedures[^"]*\.js" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html, re.I)


def test_docstrings_and_descriptions_are_escaped(client):
    markup = article(client.get("/procedures/").content.decode(), "Declared", "markup")

    assert "&lt;script&gt;alert(&quot;doc&quot;)&lt;/script&gt;" in markup
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in markup
    assert "&lt;i&gt;markup&lt;/i&gt;" in markup
    assert "<script>" not in markup and "<b>" not in markup


def test_a_search_keeps_the_procedures_whose_mod_or_method_matches(client):
    response = client.get("/procedures/", {"q": "common.kt"})

    html = response.content.decode()
    article(html, "common.Kt", "prt")
    assert "<code>Declared</code>" not in html
    assertContains(response, 'value="common.kt"')


def test_a_search_looks_in_docstrings(client):
    html = client.get("/procedures/", {"q": "greeting is REPEATED"}).content.decode()

    assert len(re.findall(r"<article ", html)) == 1
    article(html, "Declared", "greet")


def test_a_search_without_match_says_so(client):
    response = client.get("/procedures/", {"q": "no such thing"})

    assertContains(response, 'id="no-procedures"')
    assertContains(response, "0 of ")


def test_a_search_text_is_escaped(client):
    response = client.get("/procedures/", {"q": '"><b>x'})

    assertNotContains(response, "<b>x")


def test_modules_that_cannot_be_imported_are_listed_with_their_problem(client):
    response = client.get("/procedures/")

    assertContains(response, 'id="procedure-problems"')
    assertContains(response, "tests.engine.procs.Raises</code>: module tests.engine.procs.Raises cannot be")


def test_the_catalogue_gives_each_procedure_in_the_editors_shape(client):
    procedures = catalogue(client)

    assert {tuple(p) for p in procedures} == {
        ("mod", "method", "summary", "doc", "params", "results", "snippet")
    }
    greet = next(p for p in procedures if (p["mod"], p["method"]) == ("Declared", "greet"))
    assert greet["summary"] == "Greets someone by name."
    assert greet["params"][1] == {
        "name": "greeting",
        "type": "string",
        "required": False,
        "default": "Hello",
        "description": "",
        "choices": ["Hello", "Hi"],
    }
    assert greet["results"] == [
        {"name": "msg", "type": "string", "description": "the greeting"},
        {"name": "count", "type": "integer", "description": ""},
    ]
    assert greet["snippet"].startswith("{\n")


def test_the_catalogue_gives_null_params_and_results_for_an_undeclared_procedure(client):
    kt = next(p for p in catalogue(client) if (p["mod"], p["method"]) == ("common.Kt", "prt"))

    assert (kt["params"], kt["results"], kt["doc"]) == (None, None, "")


def test_the_catalogue_leaves_out_modules_that_cannot_be_imported(client):
    assert all(p["method"] for p in catalogue(client))
    assert "Raises" not in {p["mod"] for p in catalogue(client)}


def test_the_catalogue_is_sorted_by_mod_and_method(client):
    keys = [(p["mod"], p["method"]) for p in catalogue(client)]

    assert keys == sorted(keys)


@pytest.mark.parametrize("url", ["/procedures/", "/procedures/catalogue.json"])
def test_non_staff_users_are_refused(url):
    user = make_user("visitor", *ALL_PERMS, staff=False)

    assert client_for(user).get(url).status_code == 403


@pytest.mark.parametrize("url", ["/procedures/", "/procedures/catalogue.json"])
def test_staff_without_the_view_permission_are_refused(lacking, url):
    assert lacking("view_flow").get(url).status_code == 403


@pytest.mark.parametrize("url", ["/procedures/", "/procedures/catalogue.json"])
def test_anonymous_visitors_are_sent_to_the_login_page(url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("url", ["/procedures/", "/procedures/catalogue.json"])
def test_a_post_is_refused(client, url):
    assert client.post(url).status_code == 405


def test_a_declared_default_that_is_no_json_value_is_shown_as_text(client, monkeypatch):
    from runner.engine.declare import ATTRIBUTE, param, procedure
    from tests.engine.procs.Declared import Declared

    odd = procedure(params={"tags": param("array", default=frozenset({"x"}))})(lambda self, c, p: {})
    monkeypatch.setattr(Declared.anything, ATTRIBUTE, getattr(odd, ATTRIBUTE), raising=False)

    assert client.get("/procedures/").status_code == 200
    [entry] = [p for p in catalogue(client) if p["method"] == "anything"]
    assert entry["params"] == [
        {
            "name": "tags",
            "type": "array",
            "required": False,
            "default": "frozenset({'x'})",
            "description": "",
            "choices": [],
        }
    ]
