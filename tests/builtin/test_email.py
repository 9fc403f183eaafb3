"""email.Email.send through Django's mail framework, with its test backend (locmem)."""

import pytest

from builtin._checks import ParamError
from builtin.email.Email import Email


@pytest.fixture
def send(logger):
    def call(**params) -> dict:
        return Email(logger).send({}, params)

    return call


def test_a_text_message_goes_to_one_address(send, mailoutbox, settings):
    settings.DEFAULT_FROM_EMAIL = "flows@example.com"

    answer = send(to="ann@example.com", subject="Report", body="All good.")

    assert answer == {"sent": 1, "recipients": ["ann@example.com"]}
    [message] = mailoutbox
    assert (message.from_email, message.to, message.subject, message.body) == (
        "flows@example.com",
        ["ann@example.com"],
        "Report",
        "All good.",
    )
    assert message.alternatives == []


def test_html_goes_beside_the_text_and_cc_and_bcc_are_recipients(send, mailoutbox):
    answer = send(
        to=["Ann <ann@example.com>", "bob@example.com"],
        cc="carl@example.com",
        bcc=["dee@example.com"],
        subject="Report",
        body="All good.",
        html="<p>All <b>good</b>.</p>",
        **{"from": "Flows <flows@example.com>"},
    )

    assert answer["recipients"] == [
        "Ann <ann@example.com>",
        "bob@example.com",
        "carl@example.com",
        "dee@example.com",
    ]
    [message] = mailoutbox
    assert message.from_email == "Flows <flows@example.com>"
    assert (message.cc, message.bcc) == (["carl@example.com"], ["dee@example.com"])
    assert [(a.content, a.mimetype) for a in message.alternatives] == [
        ("<p>All <b>good</b>.</p>", "text/html")
    ]
    assert "Bcc" not in message.message()  # bcc addresses are not in the headers sent


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"to": None}, "param to is required: an address, or a list of them"),
        ({"to": []}, "param to is required"),
        ({"to": "bob"}, "param to: 'bob' is not an email address"),
        ({"cc": ["ok@example.com", 3]}, "param cc must be an address, or a list of them"),
        ({"from": "nobody"}, "param from: 'nobody' is not an email address"),
        ({"subject": None}, "param subject is required: a string"),
        ({"body": ["a"]}, "param body must be a string, not an array"),
    ],
)
def test_unusable_params_are_named_and_nothing_is_sent(send, mailoutbox, params, message):
    given = {"to": "ann@example.com", "subject": "s", "body": "b", **params}

    with pytest.raises(ParamError, match=message):
        send(**given)

    assert mailoutbox == []
