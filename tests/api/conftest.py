from tests.test_bad_input import admin_headers  # noqa: F401 (a fixture the API tests share)
