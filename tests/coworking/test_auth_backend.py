"""``coworking.auth``: the API's token authentication and the permission backend give DRF's
and Django's answers, each in one statement per request."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


def fresh(user):
    """A new object for the user, as each request authenticates one (no permissions loaded)."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def user():
    """Own: view_invoice; through one group: view_creditnote and view_invoice again; a group
    they are not in: cancel_invoice."""
    user = UserFactory()
    user.user_permissions.add(permission("view_invoice"))
    theirs, other = Group.objects.create(name="theirs"), Group.objects.create(name="other")
    theirs.permissions.add(permission("view_creditnote"), permission("view_invoice"))
    other.permissions.add(permission("cancel_invoice"))
    user.groups.add(theirs)
    UserFactory().groups.add(other)
    return user


def test_own_and_group_permissions_in_one_statement_then_none(user):
    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("invoicing.view_invoice")
        assert user.has_perm("credits.view_creditnote")
        assert not user.has_perm("invoicing.cancel_invoice")
        assert user.get_all_permissions() == {
            "invoicing.view_invoice",
            "credits.view_creditnote",
        }
    assert len(queries) == 1


def test_the_same_answers_as_djangos_model_backend(user):
    superuser = UserFactory(is_superuser=True)
    inactive = UserFactory(is_active=False)
    inactive.user_permissions.add(permission("view_invoice"))
    for someone in (user, superuser, inactive):
        ours, djangos = fresh(someone), fresh(someone)
        assert ours.get_all_permissions() == ModelBackend().get_all_permissions(djangos)
    assert fresh(superuser).has_perm("invoicing.cancel_invoice")
    assert not fresh(inactive).has_perm("invoicing.view_invoice")
    assert AnonymousUser().get_all_permissions() == set()


def test_a_permission_granted_later_is_seen_by_the_next_request(user):
    assert not fresh(user).has_perm("invoicing.cancel_invoice")
    user.user_permissions.add(permission("cancel_invoice"))
    assert fresh(user).has_perm("invoicing.cancel_invoice")


def test_a_token_authenticates_its_user_in_one_statement(api_client):
    user = UserFactory()
    client = api_client(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/me")
    assert response.status_code == 200, response.content
    assert response.json()["username"] == user.username
    token_reads = [q for q in queries if "authtoken_token" in q["sql"]]
    assert len(token_reads) == 1


@pytest.mark.parametrize("case", ["unknown token", "inactive user", "no key", "two keys"])
def test_a_bad_token_is_a_401_with_drfs_sentence(api_client, case):
    user = UserFactory()
    client = api_client(user)
    key = Token.objects.get(user=user).key
    header, sentence = {
        "unknown token": (f"Token {key[::-1]}", "Invalid token."),
        "inactive user": (f"Token {key}", "User inactive or deleted."),
        "no key": ("Token", "Invalid token header. No credentials provided."),
        "two keys": (f"Token {key} {key}", "Invalid token header."),
    }[case]
    if case == "inactive user":
        user.is_active = False
        user.save(update_fields=["is_active"])
    client.credentials(HTTP_AUTHORIZATION=header)
    body = assert_problem(client.get("/api/v1/me"), 401)
    assert body["detail"].startswith(sentence)
