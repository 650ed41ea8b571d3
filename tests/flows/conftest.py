import pytest


@pytest.fixture(autouse=True)
def _server(prefect_server):
    yield
