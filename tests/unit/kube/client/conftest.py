import pytest

from lab.kube.client import Client
from lab.kube.client.fake import FakeAPI


@pytest.fixture
async def api():
    async with FakeAPI() as fake:
        yield fake


@pytest.fixture
async def client(api):
    async with Client(api.config) as c:
        yield c
