"""A Content-Security-Policy on every response, strict enough that an injected script or
style cannot run, which the dashboard's own pages and the admin satisfy (no inline scripts,
styles or event handlers; the admin's few inline styles carry the nonce)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from runner.models import RunStep
from tests.factories import client_for, log, make_run

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def test_every_page_carries_a_policy_that_refuses_inline_and_foreign_scripts(client, flow):
    directives = policy(client.get("/"))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["style-src"]


def test_the_log_in_page_carries_the_policy_too(db):
    from django.test import Client

    assert "Content-Security-Policy" in Client().get("/admin/login/").headers


def pages_of_a_small_world(client, world) -> dict[str, str]:
    run = world["run"]
    RunStep.objects.create(
        run=run, index=0, name="step1", status="succeeded", started_at=run.started_at, duration=0.2
    )
    RunStep.objects.create(
        run=run, index=1, name="step2", status="running", started_at=run.started_at + timedelta(seconds=1)
    )
    failed = make_run(status="failed", error="boom", traceback="Traceback")
    log("disk full", level="ERROR")
    urls = [
        "/",
        "/new-flow/",
        "/deleted-flows/",
        "/flows/example/",
        "/flows/example/revisions/",
        f"/flows/example/revisions/{world['revision'].number}/",
        "/runs/",
        f"/runs/{run.pk}/",
        f"/runs/{run.pk}/status/",
        f"/runs/{run.pk}/logs/?after=0",
        f"/runs/{failed.pk}/",
        "/logs/",
        "/logs/?tail=1",
        "/logs/tail/?after=0",
        "/no-such-page/",
    ]
    return {url: client.get(url).content.decode() for url in urls}


INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "a style element": re.compile(r"<style\b", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def test_the_dashboards_pages_have_no_inline_script_style_or_event_handler(client, world):
    for url, html in pages_of_a_small_world(client, world).items():
        for what, pattern in INLINE.items():
            assert not pattern.search(html), f"{url} has {what}: {pattern.search(html)}"


def test_htmx_is_told_not_to_inject_its_indicator_style(client, flow):
    html = client.get("/").content.decode()

    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in html


def test_the_admin_gets_the_nonce_of_the_policy_for_its_inline_styles(db):
    # Django's admin templates put the nonce on their tags (and on the <style> a changelist
    # without actions adds); the policy must name the same one.
    make_run()
    response = client_for(User.objects.create_superuser("admin", password=None)).get("/admin/runner/run/")

    nonces = set(re.findall(r'nonce="([^"]+)"', response.content.decode()))
    assert len(nonces) == 1
    assert f"'nonce-{nonces.pop()}'" in policy(response)["style-src"]


def test_the_server_error_page_has_no_inline_style(db):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")

    assert not INLINE["a style attribute"].search(html) and not INLINE["a style element"].search(html)
