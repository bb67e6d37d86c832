"""The OpenAPI documents and their pages need a signed-in user unless a setting opens them."""

import pytest
from django.test import Client

from tests.factories import portal_member, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PAGES = [
    "/api/v1/schema/",
    "/api/v1/schema/?format=json",
    "/api/v1/docs/",
    "/api/v1/redoc/",
    "/api/v1/webhooks/schema/?format=json",
]


def shown(response, page: str) -> bool:
    """The page itself came back: the schema document, or the page that renders it."""
    marker = {"/api/v1/docs/": b"swagger-ui", "/api/v1/redoc/": b"redoc"}.get(page, b"openapi")
    return response.status_code == 200 and marker in response.content


@pytest.mark.parametrize("page", PAGES)
def test_the_schema_and_its_pages_are_refused_to_anonymous_visitors(page, settings):
    settings.API_SCHEMA_PUBLIC = False
    response = Client().get(page)
    assert response.status_code == 401, response.status_code
    assert b"paths" not in response.content and b"swagger-ui" not in response.content


@pytest.mark.parametrize("page", PAGES)
def test_signed_in_users_read_them(page, settings, api_client):
    settings.API_SCHEMA_PUBLIC = False
    staff = Client()
    staff.force_login(staff_user())
    assert shown(staff.get(page), page)
    assert shown(api_client(portal_member().portal_user).get(page), page)


@pytest.mark.parametrize("page", PAGES)
def test_the_setting_opens_them_to_everyone(page, settings):
    settings.API_SCHEMA_PUBLIC = True
    assert shown(Client().get(page), page)


def test_the_schema_is_private_unless_the_environment_opens_it(monkeypatch):
    """The settings module's own default, read afresh without and with the variable."""
    import runpy

    import config.settings

    monkeypatch.delenv("API_SCHEMA_PUBLIC", raising=False)
    assert runpy.run_path(config.settings.__file__)["API_SCHEMA_PUBLIC"] is False
    monkeypatch.setenv("API_SCHEMA_PUBLIC", "1")
    assert runpy.run_path(config.settings.__file__)["API_SCHEMA_PUBLIC"] is True
