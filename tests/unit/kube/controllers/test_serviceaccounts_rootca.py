"""The `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap in every namespace:
created for new namespaces, recreated when deleted, put back when changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.kube.controllers.rootcacert import DESCRIPTION, DESCRIPTION_TEXT, RootCACertPublisher
from lab.kube.controllers.serviceaccounts import ServiceAccountsController
from lab.kube.machinery import meta
from lab.kube.machinery.catalog import CONFIGMAPS, NAMESPACES, SERVICEACCOUNTS
from tests.support import eventually, holds_for
from tests.unit.kube.controllers.harness import running

CA = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"


async def test_every_namespace_gets_a_default_service_account_back_when_deleted() -> None:
    async with running(ServiceAccountsController) as (api, _):
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            await eventually(lambda ns=ns: api.object(SERVICEACCOUNTS, "default", ns), 5, f"default SA in {ns}")
        await api.seed(NAMESPACES, {"metadata": {"name": "team-a"}})
        first = await eventually(lambda: api.object(SERVICEACCOUNTS, "default", "team-a"), 5, "SA in team-a")
        assert first["metadata"].keys() >= {"name", "namespace", "uid"} and "secrets" not in first
        await api.delete(SERVICEACCOUNTS, "default", "team-a")

        async def recreated() -> bool:
            sa = await api.object(SERVICEACCOUNTS, "default", "team-a")
            return sa is not None and meta.uid(sa) != meta.uid(first)
        await eventually(recreated, 5, "the default SA recreated")
        await api.seed(SERVICEACCOUNTS, {"metadata": {"name": "bot", "namespace": "team-a"}})
        await api.delete(SERVICEACCOUNTS, "bot", "team-a")  # only `default` is the controller's

        async def bot_gone() -> bool:
            return await api.object(SERVICEACCOUNTS, "bot", "team-a") is None
        await holds_for(bot_gone, 0.5, "bot stays deleted")


async def test_a_terminating_namespace_gets_no_new_account() -> None:
    async with running(ServiceAccountsController) as (api, _):
        await api.seed(NAMESPACES, {"metadata": {"name": "old"}})
        await eventually(lambda: api.object(SERVICEACCOUNTS, "default", "old"), 5, "SA in old")
        await api.delete(NAMESPACES, "old")  # Terminating: the kubernetes finalizer holds it
        ns = await api.object(NAMESPACES, "old")
        assert ns is not None and ns["status"]["phase"] == "Terminating"
        await api.delete(SERVICEACCOUNTS, "default", "old")

        async def none_in_old() -> bool:
            return await api.object(SERVICEACCOUNTS, "default", "old") is None
        await holds_for(none_in_old, 0.5, "no SA in a terminating namespace")


@pytest.fixture
def root_ca(tmp_path: Path) -> Path:
    path = tmp_path / "ca.crt"
    path.write_text(CA)
    return path


async def test_the_root_ca_is_published_and_kept_in_every_namespace(root_ca: Path) -> None:
    def publisher(client, informers):  # type: ignore[no-untyped-def]
        return RootCACertPublisher(client, informers, str(root_ca))

    async with running(publisher) as (api, _):
        cm = await eventually(lambda: api.object(CONFIGMAPS, "kube-root-ca.crt", "kube-system"), 5, "CA cm")
        assert cm["data"] == {"ca.crt": CA}
        assert cm["metadata"]["annotations"] == {DESCRIPTION: DESCRIPTION_TEXT}
        await api.seed(NAMESPACES, {"metadata": {"name": "team-a"}})
        cm = await eventually(lambda: api.object(CONFIGMAPS, "kube-root-ca.crt", "team-a"), 5, "CA in team-a")
        await api.update(CONFIGMAPS, {**cm, "data": {"ca.crt": "tampered"}})

        async def restored() -> bool:
            now = await api.object(CONFIGMAPS, "kube-root-ca.crt", "team-a")
            return now is not None and now["data"] == {"ca.crt": CA}
        await eventually(restored, 5, "the CA put back")
        await api.delete(CONFIGMAPS, "kube-root-ca.crt", "team-a")
        await eventually(restored, 5, "the CA recreated")
