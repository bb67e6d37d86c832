"""Staff sessions end at browser close and a working day after the login."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.factories import staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PASSWORD = "a long and unusual passphrase"


def logged_in_staff() -> Client:
    user = staff_user()
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def test_the_session_cookie_ends_with_the_browser():
    client = logged_in_staff()
    cookie = client.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""


def test_a_staff_session_ends_a_working_day_after_the_login():
    client = logged_in_staff()
    session = Session.objects.get()
    lifetime = session.expire_date - timezone.now()
    assert datetime.timedelta(hours=8, minutes=59) < lifetime <= datetime.timedelta(hours=9)
    assert client.get("/admin/").status_code == 200

    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
