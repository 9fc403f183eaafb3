"""The secret store: where `@_secret.NAME` gets its value.

Two sources, looked up in this order:

1. the environment variable WORKFLOW_SECRET_<NAME> (an empty one counts as unset), set by
   whoever deploys the site: it wins, and the dashboard cannot override it;
2. the vault.Secret table, managed on /secrets/ and by `manage.py secrets`, each value
   encrypted with the Fernet keys of WORKFLOW_SECRETS_KEY (MultiFernet: the first key
   encrypts, every key decrypts, so keys can be rotated).

Names are letters, digits and underscores, and case-sensitive in references; the table
refuses two names that differ only by case (MySQL compares them without case).
"""

import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from runner.engine import ParameterResolutionError
from vault.models import Secret

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


def _fernet_module():
    # Imported when a secret is read or written, not with this module: every run and page
    # imports this module, and cryptography takes some 30 ms to import.
    from cryptography import fernet

    return fernet


ENV_PREFIX = "WORKFLOW_SECRET_"
MAX_NAME = Secret._meta.get_field("name").max_length
MAX_VALUE = 65_536  # characters; a secret is a password or a key, not a file
NAME = re.compile(rf"[A-Za-z0-9_]{{1,{MAX_NAME}}}")
KEY_HELP = "docs/secrets.md, 'The key', says how to make one"


class SecretsError(Exception):
    """A request about secrets that cannot be met; the message says why, in one line."""


class KeyProblem(SecretsError):
    """WORKFLOW_SECRETS_KEY is missing or is not a list of Fernet keys."""


class CannotDecrypt(SecretsError):
    """A stored value that none of the keys of WORKFLOW_SECRETS_KEY opens."""


class UnknownSecret(SecretsError):
    """No environment variable and no row of that name."""


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a secret, or None."""
    if NAME.fullmatch(name):
        return None
    return f"a secret name is 1 to {MAX_NAME} letters, digits or underscores (A-Z, a-z, 0-9, _)"


def where_secrets_come_from(name: str) -> str:
    return f"set the environment variable {ENV_PREFIX}{name} or add {name} on the Secrets page (/secrets/)"


# The keys.


def _fernet() -> "MultiFernet":
    keys = [key.strip() for key in settings.WORKFLOW_SECRETS_KEY.split(",") if key.strip()]
    if not keys:
        raise KeyProblem(
            f"WORKFLOW_SECRETS_KEY is not set, so secrets cannot be kept in the database ({KEY_HELP})"
        )
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(_fernet_module().Fernet(key))
        except ValueError as err:
            which = f"key {number} of {len(keys)}" if len(keys) > 1 else "it"
            raise KeyProblem(
                f"WORKFLOW_SECRETS_KEY is not valid: {which} is not a Fernet key"
                f" (44 characters of url-safe base64; {KEY_HELP})"
            ) from err
    return _fernet_module().MultiFernet(fernets)


def key_problem() -> str | None:
    """What is wrong with WORKFLOW_SECRETS_KEY, or None: the Secrets page shows it."""
    try:
        _fernet()
    except KeyProblem as err:
        return str(err)
    return None


def _decrypt(fernet: "MultiFernet", name: str, token: str) -> str:
    try:
        return fernet.decrypt(token.encode()).decode()
    except _fernet_module().InvalidToken as err:
        raise CannotDecrypt(
            f"secret {name} cannot be decrypted with WORKFLOW_SECRETS_KEY: it was encrypted with"
            " another key (put that key back in the list, or store the secret again)"
        ) from err


# Reading.


def from_environment(name: str) -> str | None:
    return os.environ.get(ENV_PREFIX + name) or None


def environment_names() -> list[str]:
    return sorted(
        key[len(ENV_PREFIX) :]
        for key, value in os.environ.items()
        if key.startswith(ENV_PREFIX) and value and NAME.fullmatch(key[len(ENV_PREFIX) :])
    )


def reveal(name: str) -> str:
    """The value of secret `name`: UnknownSecret when there is none, CannotDecrypt (or
    KeyProblem) when the table has it but the key cannot open it."""
    value = from_environment(name)
    if value is not None:
        return value
    token = _token(name)
    if token is None:
        raise UnknownSecret(f'no secret is named "{name}": {where_secrets_come_from(name)}')
    try:
        fernet = _fernet()
    except KeyProblem as err:
        raise CannotDecrypt(f"secret {name} cannot be decrypted with WORKFLOW_SECRETS_KEY: {err}") from err
    return _decrypt(fernet, name, token)


def _token(name: str) -> str | None:
    row = _row(name)
    return None if row is None else row.token


def _row(name: str) -> Secret | None:
    if name_problem(name):
        return None
    # MySQL's comparison ignores case: "db" finds the row "DB", which is another secret.
    return next((row for row in Secret.objects.filter(name=name) if row.name == name), None)


def known(names: set[str]) -> set[str]:
    """Those of `names` that name a secret (one query, none when every name is in the
    environment). Nothing is decrypted."""
    found = {name for name in names if from_environment(name) is not None}
    rest = [name for name in names - found if not name_problem(name)]
    if rest:
        found |= set(Secret.objects.filter(name__in=rest).values_list("name", flat=True)) & set(rest)
    return found


@dataclass(frozen=True)
class Entry:
    """A secret as the Secrets page lists it; never its value."""

    name: str
    source: str  # "environment" or "table"
    description: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""
    hidden: bool = False  # a row whose name the environment also sets: the environment wins
    problem: str = ""  # why the value cannot be read, for a row the key cannot open


def entries() -> list[Entry]:
    """Every secret, by name: the table's rows and the environment's variables."""
    in_environment = set(environment_names())
    try:
        fernet, missing_key = _fernet(), ""
    except KeyProblem as err:
        fernet, missing_key = None, str(err)
    listed = []
    for row in Secret.objects.order_by("name"):
        problem = missing_key
        if fernet is not None:
            try:
                # Checks the token's signature with each key without decrypting the value.
                fernet.extract_timestamp(row.token.encode())
            except _fernet_module().InvalidToken:
                problem = "cannot be decrypted with WORKFLOW_SECRETS_KEY: it was encrypted with another key"
        hidden = row.name in in_environment
        listed.append(
            Entry(row.name, "table", row.description, row.updated_at, row.updated_by, hidden, problem)
        )
    listed += [Entry(name, "environment") for name in in_environment]
    return sorted(listed, key=lambda entry: (entry.name, entry.source))


# Writing.


def add(name: str, value: str, *, description: str = "", by: str = "") -> Secret:
    """A new secret in the table; SecretsError when the name is taken, or the key unusable."""
    _check(name, value)
    if Secret.objects.filter(name__iexact=name).exists():
        raise SecretsError(f"a secret named {name} exists already: replace its value instead")
    token = _fernet().encrypt(value.encode()).decode()
    try:
        with transaction.atomic():
            return Secret.objects.create(
                name=name, token=token, description=description, updated_at=timezone.now(), updated_by=by
            )
    except IntegrityError as err:
        raise SecretsError(f"a secret named {name} exists already: replace its value instead") from err


def replace(name: str, value: str | None, *, description: str | None = None, by: str = "") -> Secret:
    """A table secret's new value (None keeps it) and description (None keeps it)."""
    secret = _row(name)
    if secret is None:
        raise SecretsError(f"the table has no secret named {name}")
    fields = ["updated_at", "updated_by"]
    if value is not None:
        _check(name, value)
        secret.token = _fernet().encrypt(value.encode()).decode()
        fields.append("token")
    if description is not None:
        secret.description = description
        fields.append("description")
    secret.updated_at, secret.updated_by = timezone.now(), by
    secret.save(update_fields=fields)
    return secret


def set_value(name: str, value: str, *, description: str | None = None, by: str = "") -> tuple[Secret, bool]:
    """add() or replace(), whichever applies (the command line's `set`); True when added."""
    if _row(name) is not None:
        return replace(name, value, description=description, by=by), False
    return add(name, value, description=description or "", by=by), True


def delete(name: str) -> None:
    secret = _row(name)
    if secret is None:
        raise SecretsError(f"the table has no secret named {name}")
    secret.delete()


def rotate() -> tuple[int, list[str]]:
    """Encrypt every row again with the first key of WORKFLOW_SECRETS_KEY: how many rows,
    and the names of those that no key opens (left as they are)."""
    fernet = _fernet()
    done, failed = 0, []
    for pk, name, token in Secret.objects.order_by("name").values_list("pk", "name", "token"):
        try:
            fresh = fernet.rotate(token.encode()).decode()
        except _fernet_module().InvalidToken:
            failed.append(name)
            continue
        # Not save(): a rotation changes neither the value nor who set it.
        Secret.objects.filter(pk=pk, token=token).update(token=fresh)
        done += 1
    return done, failed


def _check(name: str, value: str) -> None:
    if problem := name_problem(name):
        raise SecretsError(problem)
    if from_environment(name) is not None:
        raise SecretsError(
            f"{name} is set by the environment variable {ENV_PREFIX}{name}, which wins over the"
            " table: change it there, or unset it first"
        )
    if not value:
        raise SecretsError("a secret's value cannot be empty")
    if len(value) > MAX_VALUE:
        raise SecretsError(f"a secret's value has at most {MAX_VALUE:,} characters")


# A run's secrets.


class RunSecrets(dict):
    """What run_flow(secrets=...) reads `@_secret.NAME` from, in the child that runs the
    steps: each name is looked up when a step resolves it (not before the run, and not in
    the worker), told to `reveal` (the masker), and kept for the child's later steps.

    Nothing is stored in the dict itself: copied or listed, it is empty. It is also a run
    listener (step_started), so that its errors name the step.
    """

    def __init__(self, on_reveal) -> None:
        super().__init__()
        self._on_reveal = on_reveal
        self._values: dict[str, str] = {}
        self._step = "a step"

    def step_started(self, run, step) -> None:
        self._step = step.name

    def __getitem__(self, name: str) -> str:
        try:
            return self._value(name)
        except SecretsError as err:
            raise self._failure(name, err) from err

    def get(self, name: str, default=None):
        try:
            return self._value(name)
        except UnknownSecret:
            return default
        except SecretsError as err:
            raise self._failure(name, err) from err

    def _failure(self, name: str, err: SecretsError) -> ParameterResolutionError:
        # The step fails as with any reference that cannot be resolved, naming the step.
        return ParameterResolutionError(f'{self._step}: "@_secret.{name}": {err}', step=self._step)

    def _value(self, name: str) -> str:
        value = self._values.get(name)
        if value is None:
            value = self._values[name] = reveal(name)
            self._on_reveal(value)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._values or bool(known({name})))

    def __repr__(self) -> str:
        return "<secrets>"
