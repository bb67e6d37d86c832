"""The unit tier runs without a database: pytest-django refuses a query from a test without
the ``django_db`` mark, and this folder refuses the mark (and the fixtures that bring one)."""

import pytest


@pytest.fixture(autouse=True)
def no_database(request):
    asks = {"db", "transactional_db", "django_db_setup"} & set(request.fixturenames)
    assert request.node.get_closest_marker("django_db") is None and not asks, (
        "tests/unit runs without a database: move this test to its app's folder"
    )
