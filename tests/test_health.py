"""/healthz and /readyz: what a load balancer and docker compose ask each process."""

import json

import pytest

from tests.conftest import broker_unreachable


def readiness(client):
    response = client.get("/readyz", HTTP_ACCEPT="application/json")
    return response.status_code, json.loads(response.content)


def test_healthz_answers_whatever_the_host_header(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")

    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_readyz_checks_the_database_the_broker_and_the_document_storage(client):
    status, body = readiness(client)

    assert status == 200
    assert body == {"database": "OK", "broker": "OK", "documents": "OK"}


@pytest.mark.django_db
def test_readyz_is_503_naming_the_broker_when_it_is_down(client):
    with broker_unreachable():
        status, body = readiness(client)

    assert status == 503
    assert body["broker"].startswith("Unavailable")
    assert body["database"] == "OK" and body["documents"] == "OK"


@pytest.mark.django_db
def test_readyz_is_503_naming_the_document_storage_when_it_cannot_write(client, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocker / "private"},
        },
    }

    status, body = readiness(client)

    assert status == 503
    assert body["documents"] != "OK"
    assert body["database"] == "OK" and body["broker"] == "OK"


@pytest.mark.django_db
def test_readyz_answers_a_browser_and_a_terminal_too(client):
    page = client.get("/readyz", HTTP_ACCEPT="text/html")
    text = client.get("/readyz", HTTP_ACCEPT="text/plain")

    assert page.status_code == 200 and b"broker" in page.content
    assert text.status_code == 200 and text.content.decode().splitlines() == [
        "database: OK",
        "broker: OK",
        "documents: OK",
    ]


def test_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/login/").status_code == 301
