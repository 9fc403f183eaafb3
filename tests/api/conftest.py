import pytest
from django.contrib.auth.models import User
from django.test import Client

from flows.models import Flow
from tests.api.helpers import token_client
from tests.factories import ALL_PERMS, EXAMPLE, make_flow, make_user


@pytest.fixture
def operator(db) -> User:
    """A staff user with every permission of the dashboard."""
    return make_user("ann", *ALL_PERMS)


@pytest.fixture
def api(operator) -> Client:
    """The operator's client with a token of scope write: may do anything."""
    return token_client(operator, "write")


@pytest.fixture
def example(db) -> Flow:
    return make_flow("example", *EXAMPLE)
