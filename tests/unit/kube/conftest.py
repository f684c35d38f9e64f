"""Fixtures for unit tests that talk to the real API server in memory (a module may shadow them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client


@pytest.fixture
async def api() -> AsyncIterator[InMemoryAPI]:
    async with InMemoryAPI() as server:
        yield server


@pytest.fixture
async def client(api: InMemoryAPI) -> AsyncIterator[Client]:
    async with Client(api.config) as c:
        yield c
