"""/healthz and /readyz: what a load balancer and docker compose ask each process."""

import json
import threading

import pytest
from django.test import Client

from coworking import health
from tests.conftest import broker_unreachable


@pytest.fixture(autouse=True)
def fresh_readiness():
    """Each test sees checks run now, not a result kept from the previous test."""
    health.readiness_cache_clear()
    yield
    health.readiness_cache_clear()


def refused(response) -> bool:
    """A 403 that tells nothing of the checks behind it."""
    return response.status_code == 403 and b"database" not in response.content


def ready(response) -> bool:
    """A 200 with every check's answer."""
    return response.status_code == 200 and response.content.count(b"OK") == 3


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

    probe = client.get("/healthz")
    assert (probe.status_code, probe.content) == (200, b"ok\n")
    page = client.get("/admin/login/")
    assert page.status_code == 301 and page["Location"].startswith("https://")


def test_healthz_stays_public_from_any_address_and_through_a_proxy():
    client = Client(REMOTE_ADDR="203.0.113.9")
    for response in (
        client.get("/healthz"),
        client.get("/healthz", HTTP_X_FORWARDED_FOR="198.51.100.1"),
    ):
        assert (response.status_code, response.content) == (200, b"ok\n")


@pytest.mark.django_db
def test_readyz_refuses_other_addresses_and_anything_that_came_through_a_proxy(settings):
    settings.READYZ_TOKEN = ""
    outside = Client(REMOTE_ADDR="203.0.113.9")
    proxied = Client(REMOTE_ADDR="127.0.0.1")  # the proxy on this host forwards everyone

    assert refused(outside.get("/readyz"))
    assert refused(proxied.get("/readyz", HTTP_X_FORWARDED_FOR="127.0.0.1"))
    assert refused(proxied.get("/readyz", HTTP_FORWARDED="for=127.0.0.1"))
    assert ready(Client(REMOTE_ADDR="127.0.0.1").get("/readyz"))


@pytest.mark.django_db
def test_readyz_answers_configured_networks_and_the_token_from_the_environment(settings):
    import ipaddress

    settings.READYZ_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    settings.READYZ_TOKEN = "probe-token-0123456789"
    balancer = Client(REMOTE_ADDR="10.20.3.4")
    outside = Client(REMOTE_ADDR="203.0.113.9")

    assert ready(balancer.get("/readyz"))
    assert refused(Client(REMOTE_ADDR="127.0.0.1").get("/readyz"))  # not listed
    assert refused(outside.get("/readyz"))
    assert refused(outside.get("/readyz", HTTP_AUTHORIZATION="Bearer wrong"))
    assert ready(outside.get("/readyz", HTTP_AUTHORIZATION="Bearer probe-token-0123456789"))


@pytest.mark.django_db
def test_concurrent_readyz_probes_run_the_checks_once_within_the_cache_window(settings, tmp_path):
    """30 probes at once write one file and open one broker connection, not 30."""
    settings.READYZ_CACHE_SECONDS = 30
    written = []
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    from django.core.files.storage import FileSystemStorage

    real_save = FileSystemStorage._save

    def counting_save(storage, name, content):
        written.append(name)
        return real_save(storage, name, content)

    FileSystemStorage._save = counting_save
    statuses = []
    try:
        threads = [
            threading.Thread(target=lambda: statuses.append(readiness(Client())[0]))
            for _ in range(30)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        FileSystemStorage._save = real_save

    assert statuses == [200] * 30
    assert len(written) == 3  # one file per PDF folder, once
    assert sorted(name.split("/")[0] for name in written) == [
        "credit-notes",
        "invoices",
        "statements",
    ]
    assert not list(tmp_path.glob("*/.readyz-*"))  # and cleaned up


@pytest.mark.django_db
def test_readyz_fails_when_a_folder_pdfs_are_written_to_is_not_writable(settings, tmp_path):
    """The storage's root writable but ``credit-notes/`` not: rendering fails, so must
    readiness."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    (tmp_path / "credit-notes").write_text("a file where the folder should be")

    status, body = readiness(Client())

    assert status == 503
    assert body["documents"].startswith("Unavailable") and "credit-notes/" in body["documents"]


def test_readyz_checks_the_folder_prepared_statements_are_written_to(settings, tmp_path):
    """Statements rendered in the background are PDFs too, though not documents."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    (tmp_path / "statements").write_text("a file where the folder should be")

    status, body = readiness(Client())

    assert status == 503
    assert "statements/" in body["documents"]
