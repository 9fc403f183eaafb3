"""Sending email with Django's mail framework (the EMAIL_* settings choose how)."""

from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from builtin._checks import ParamError, text
from runner.engine.declare import param, procedure, result

ADDRESSES = "an address, or a list of them"


class Email:
    def __init__(self, logger) -> None:
        self.logger = logger

    @procedure(
        "Send an email: a text body, and optionally an HTML one.",
        params={
            "to": param("any", required=True, description=ADDRESSES),
            "subject": param("string", required=True, description="the subject line"),
            "body": param("string", required=True, description="the text body"),
            "html": param("string", description="an HTML body, sent beside the text one"),
            "from": param("string", description="the sender; DEFAULT_FROM_EMAIL by default"),
            "cc": param("any", description=ADDRESSES),
            "bcc": param("any", description=ADDRESSES),
        },
        results={
            "sent": result("integer", "1 when the message was handed to the mail server"),
            "recipients": result("array", "every address it went to: to, cc and bcc"),
        },
    )
    def send(self, context, params: dict) -> dict:
        to, cc, bcc = (
            _addresses(params, "to", required=True),
            _addresses(params, "cc"),
            _addresses(params, "bcc"),
        )
        sender = text(params, "from") or settings.DEFAULT_FROM_EMAIL
        _check_address("from", sender)
        message = EmailMultiAlternatives(
            subject=text(params, "subject", required=True),
            body=text(params, "body", required=True),
            from_email=sender,
            to=to,
            cc=cc,
            bcc=bcc,
        )
        if html := text(params, "html"):
            message.attach_alternative(html, "text/html")
        sent = message.send()
        recipients = message.recipients()
        self.logger.info("email %r sent to %d recipients", message.subject, len(recipients))
        return {"sent": sent, "recipients": recipients}


def _addresses(params: dict, name: str, *, required: bool = False) -> list[str]:
    value = params.get(name)
    if value is None or value == []:
        if required:
            raise ParamError(f"param {name} is required: {ADDRESSES}")
        return []
    addresses = [value] if isinstance(value, str) else value
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        raise ParamError(f"param {name} must be {ADDRESSES}")
    for address in addresses:
        _check_address(name, address)
    return addresses


def _check_address(name: str, address: str) -> None:
    # "Ann <ann@example.com>" and "ann@example.com" both; the address itself must be one.
    try:
        validate_email(parseaddr(address)[1])
    except ValidationError:
        raise ParamError(f"param {name}: {address!r} is not an email address") from None
