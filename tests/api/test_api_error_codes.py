"""The API's schema lists every error code and explains each (the lists themselves:
tests/unit/test_error_codes.py)."""

import pytest

from coworking.api.problems import error_catalogue
from coworking.error_codes import all_error_codes


@pytest.mark.django_db
def test_the_api_schema_lists_and_explains_every_code(client, settings):
    settings.API_SCHEMA_PUBLIC = True
    document = client.get("/api/v1/schema/?format=json").json()
    schemas = document["components"]["schemas"]
    code = schemas["Problem"]["properties"]["code"]
    enum = schemas[code["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(enum) == all_error_codes()
    for name, (status, meaning) in error_catalogue().items():
        assert f"- `{name}` ({status}): {meaning}" in code["description"]
