import pytest

from tests.helpers import chromium


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module (``tests.helpers.chromium``); each test gets its own context."""
    with chromium() as browser:
        yield browser
