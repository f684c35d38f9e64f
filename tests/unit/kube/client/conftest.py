import pytest

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client


@pytest.fixture
async def api():
    async with InMemoryAPI() as server:
        yield server


@pytest.fixture
async def client(api):
    async with Client(api.config) as c:
        yield c
