"""`manage.py channel ...` through the command line's own path (exit codes included)."""

import json
import subprocess

import pytest

from alerts.management.commands.channel import Command
from alerts.models import Channel
from tests.alerts.helpers import channel, notifying
from tests.commands import command_line
from tests.factories import flow_from_text

pytestmark = pytest.mark.django_db

SECRET_URL = "json://user:s3cret-token@127.0.0.1:9/hook"


@pytest.fixture
def cli(monkeypatch):
    return command_line(monkeypatch, Command, "channel")


def refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result
    (line,) = result.stderr.strip().splitlines()
    return line


def test_add_saves_the_channel_and_prints_its_url_masked(cli):
    result = cli("add", "ops", SECRET_URL)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("channel 'ops' added: json://user:****@127.0.0.1:9/hook")
    assert "s3cret" not in result.stdout
    assert Channel.objects.get().url == SECRET_URL


def test_add_refuses_a_url_apprise_cannot_read(cli):
    assert refusal(cli("add", "ops", "nonsense://x")).startswith("channel add: Apprise cannot read this URL")
    assert not Channel.objects.exists()


def test_add_refuses_a_taken_name_whatever_its_case(cli):
    channel("ops")

    assert refusal(cli("add", "OPS", SECRET_URL)) == "channel add: a channel named 'OPS' exists already"


def test_add_refuses_a_bad_name(cli):
    assert "cannot be a channel name" in refusal(cli("add", "ops team", SECRET_URL))


def test_list_json_shows_every_channel_masked(cli):
    channel("ops", SECRET_URL)

    result = cli("list", "--json")

    assert result.returncode == 0
    (listed,) = json.loads(result.stdout)
    assert listed["name"] == "ops"
    assert listed["url"].startswith("json://user:****@127.0.0.1:9/hook")
    assert set(listed) == {"name", "url", "created_by", "created_at"}


def test_list_says_so_when_there_are_none(cli):
    assert cli("list").stdout.strip() == "no channels"


def test_test_sends_a_message_at_once(cli, receiver):
    channel("ops", receiver.url)

    result = cli("test", "ops")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "channel 'ops': test message delivered"
    assert "Test message" in receiver.posts[0]["message"]


def test_test_of_a_failing_channel_exits_2_with_the_reason(cli, receiver):
    channel("ops", receiver.url)
    receiver.answers = [500]

    assert refusal(cli("test", "ops")).startswith("channel test: the test message was not delivered:")


def test_remove_deletes_the_channel(cli):
    channel("ops")

    assert cli("remove", "ops").returncode == 0
    assert not Channel.objects.exists()


def test_remove_refuses_a_channel_a_flow_still_notifies(cli):
    channel("ops")
    flow_from_text("nightly", notifying((["failed"], "ops")))

    assert refusal(cli("remove", "ops")) == (
        "channel remove: the notify rules of flow(s) 'nightly' send to 'ops': change them first"
    )
    assert Channel.objects.exists()


def test_unknown_names_and_actions_exit_2(cli):
    assert refusal(cli("remove", "nope")) == "channel remove: no channel is named 'nope'"
    assert cli("frobnicate").returncode == 2
