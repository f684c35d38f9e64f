"""The admission seam: every write a request makes passes the plugins with its user; a
refusal stops the write; the server's own writes (bootstrap) carry no request."""

from __future__ import annotations

import pytest

from lab.kube.apiserver.admission import AdmissionRequest, Operation
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import CONFIGMAPS
from lab.kube.machinery.user import ANONYMOUS


class Recorder:
    name = "Recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[Operation, str, str, bool, bool]] = []

    async def admit(self, request: AdmissionRequest) -> None:
        self.seen.append((request.operation, request.name, request.user.name,
                          request.obj is not None, request.old is not None))
        if request.obj is not None and (request.obj.get("data") or {}).get("refuse"):
            raise errors.Forbidden("refused by Recorder")


async def test_writes_pass_the_plugins_with_their_user_and_a_refusal_stops_them() -> None:
    async with InMemoryAPI() as api, Client(api.config) as client:
        recorder = Recorder()
        api.registry(CONFIGMAPS).ctx.admission.plugins.append(recorder)
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"},
              "data": {"a": "1"}}
        await client.create(CONFIGMAPS, cm, "default")
        await client.patch(CONFIGMAPS, "c", {"data": {"a": "2"}}, "default")
        with pytest.raises(errors.Forbidden, match="refused by Recorder"):
            await client.patch(CONFIGMAPS, "c", {"data": {"refuse": "yes"}}, "default")
        assert (await client.get(CONFIGMAPS, "c", "default"))["data"] == {"a": "2"}
        await client.delete(CONFIGMAPS, "c", "default")
        assert recorder.seen == [(Operation.CREATE, "c", ANONYMOUS, True, False),
                                 (Operation.UPDATE, "c", ANONYMOUS, True, True),
                                 (Operation.UPDATE, "c", ANONYMOUS, True, True),
                                 (Operation.DELETE, "c", ANONYMOUS, False, True)]
        # a write the server makes itself is not a request: nothing to admit
        await api.seed(CONFIGMAPS, {**cm, "metadata": {"name": "seeded", "namespace": "default"}})
        assert len(recorder.seen) == 4
