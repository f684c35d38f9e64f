"""Node IPAM: each node gets its own /24 from the cluster CIDR, also across restarts."""

import pytest

from lab.kube.client import Client
from lab.kube.controllers.cidrset import CIDRRangeFull, CidrSet
from lab.kube.controllers.informers import SharedInformers
from lab.kube.controllers.nodeipam import NodeIpamController
from lab.kube.machinery import catalog
from tests.support import eventually
from tests.unit.kube.controllers.harness import running


def test_allocates_in_order_and_never_twice() -> None:
    cidrs = CidrSet("10.244.0.0/16", 24)
    cidrs.occupy("10.244.1.0/24")
    assert [cidrs.allocate_next() for _ in range(3)] == ["10.244.0.0/24", "10.244.2.0/24", "10.244.3.0/24"]


def test_release_and_full() -> None:
    cidrs = CidrSet("10.0.0.0/30", 31)
    a, b = cidrs.allocate_next(), cidrs.allocate_next()
    with pytest.raises(CIDRRangeFull):
        cidrs.allocate_next()
    cidrs.release(a)
    assert cidrs.allocate_next() == a and b == "10.0.0.2/31"


def test_foreign_cidrs_are_recognised() -> None:
    cidrs = CidrSet("10.244.0.0/16", 24)
    assert not cidrs.contains("192.168.0.0/24") and not cidrs.contains("10.244.0.0/25")


def _ipam(client: Client, informers: SharedInformers) -> NodeIpamController:
    return NodeIpamController(client, informers, "10.244.0.0/16", 24)


def _node(name: str, cidr: str = "") -> dict:
    spec = {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {}
    return {"metadata": {"name": name}, "spec": spec}


async def test_nodes_get_distinct_cidrs_and_existing_ones_are_respected() -> None:
    async with running(_ipam) as (api, _):
        await api.seed(catalog.NODES, _node("old", "10.244.0.0/24"))  # as if allocated before a restart
        await api.seed(catalog.NODES, _node("w1"))
        await api.seed(catalog.NODES, _node("w2"))

        async def cidrs() -> dict[str, str] | None:
            got = {n["metadata"]["name"]: n["spec"].get("podCIDR") for n in await api.objects(catalog.NODES)}
            return got if all(got.values()) else None

        got = await eventually(cidrs)
        assert got["old"] == "10.244.0.0/24"
        assert len(set(got.values())) == 3
        assert (await api.object(catalog.NODES, "w1"))["spec"]["podCIDRs"] == [got["w1"]]  # type: ignore[index]


async def test_restart_rebuilds_the_allocated_set_before_working() -> None:
    async def before(api):  # type: ignore[no-untyped-def]
        await api.seed(catalog.NODES, _node("a-new"))
        await api.seed(catalog.NODES, _node("z-old", "10.244.0.0/24"))  # allocated by the previous leader

    async with running(_ipam, seed=before) as (api, [ipam]):
        async def pod_cidr() -> str | None:
            return ((await api.object(catalog.NODES, "a-new") or {}).get("spec") or {}).get("podCIDR")

        # "a-new" is synced first, yet must not get the CIDR "z-old" already holds
        assert await eventually(pod_cidr) == "10.244.1.0/24"
        await api.delete(catalog.NODES, "z-old")
        await eventually(lambda: not ipam.cidrs.in_use("10.244.0.0/24"))
