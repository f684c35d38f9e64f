"""Input checks the API server makes before anything is stored: label/annotation keys and
values, YAML bodies, query options, and allocations given back when a create fails."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.apiserver import ipalloc
from lab.kube.apiserver.registry import Registry, RegistryContext
from lab.kube.apiserver.registry.options import ListOptions
from lab.kube.apiserver.rest import yamlbody
from lab.kube.apiserver.storage.memory import MemoryStorage
from lab.kube.apiserver.strategies import for_resource
from lab.kube.apiserver.strategies import validation as v
from lab.kube.machinery import catalog, errors, names


def test_qualified_names_follow_upstream_rules() -> None:
    for ok in ("app", "app.kubernetes.io/name", "Tier_1", "a" * 63, "example.com/" + "a" * 63):
        assert names.is_qualified_name(ok) == [], ok
    assert names.is_qualified_name("/x") == ["prefix part must be non-empty"]
    assert names.is_qualified_name("x/") == ["name part must be non-empty"]
    assert names.is_qualified_name("a" * 64) == ["name part must be no more than 63 characters"]
    assert names.is_qualified_name("Example.com/x")[0].startswith("prefix part a lowercase RFC 1123")
    assert names.is_qualified_name("a/b/c")[0].startswith("a qualified name must consist of")


def test_label_values_may_be_empty_but_not_odd() -> None:
    assert names.is_valid_label_value("") == []
    assert names.is_valid_label_value("my_value.1") == []
    assert names.is_valid_label_value("-x")[0].startswith("a valid label must be an empty string")
    assert names.is_valid_label_value("v" * 64) == ["must be no more than 63 characters"]


def test_regex_errors_keep_upstreams_double_space() -> None:
    assert "(e.g. 'my-name',  or '123-abc', regex used" in names.is_dns1123_label("X")[0]


def test_path_segment_names() -> None:
    assert names.path_segment_problems("..") == ["may not be '..'"]
    assert names.path_segment_problems("a%b/c") == ["may not contain '/'", "may not contain '%'"]
    assert names.path_segment_problems("fine.name") == []


def test_generate_name_is_checked_with_its_trailing_dash_masked() -> None:
    assert v.generate_name_causes("web-") == []
    assert [c.field for c in v.generate_name_causes("Web_")] == ["metadata.generateName"]


def test_annotation_total_size_is_capped() -> None:
    assert v.annotations_causes({"a": "x" * 1000}) == []
    causes = v.annotations_causes({"a": "x" * (256 * 1024)})
    assert [c.reason for c in causes] == ["FieldValueTooLong"]


def test_yaml_alias_bombs_and_deep_nesting_are_bad_requests() -> None:
    bomb = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcde", "bcdef", strict=True))
    with pytest.raises(errors.BadRequest, match="excessive aliasing"):
        yamlbody.load(bomb.encode())
    with pytest.raises(errors.BadRequest, match="exceeded max depth"):
        yamlbody.load(b"[" * 3000 + b"]" * 3000)
    # a few shared anchors, as real manifests use them, are fine
    assert yamlbody.load(b"x: &l {app: web}\ny: *l\n") == {"x": {"app": "web"}, "y": {"app": "web"}}


def test_yaml_scalars_come_out_as_json_would() -> None:
    assert yamlbody.load(b"when: 2024-01-01\n2: two\ntrue: yes\n") == {
        "when": "2024-01-01", "2": "two", "true": True}
    with pytest.raises(errors.BadRequest, match="cannot convert bytes"):
        yamlbody.load(b"b: !!binary aGVsbG8=\n")


def test_list_options_check_resource_version_and_match() -> None:
    with pytest.raises(errors.BadRequest, match='resourceVersion: Invalid value: "abc"'):
        ListOptions.from_query({"resourceVersion": "abc"})
    with pytest.raises(errors.Invalid, match="Unsupported value"):
        ListOptions.from_query({"resourceVersionMatch": "Bogus", "resourceVersion": "5"})
    with pytest.raises(errors.Invalid, match="forbidden unless resourceVersion is provided"):
        ListOptions.from_query({"resourceVersionMatch": "Exact"})
    assert ListOptions.from_query({"limit": "-1"}).limit == 0
    assert ListOptions.from_query({"resourceVersion": "12", "resourceVersionMatch": "NotOlderThan"}
                                  ).resource_version == "12"


@pytest.fixture
async def services() -> Registry:
    storage = MemoryStorage()
    ctx = RegistryContext(storage, service_ips=ipalloc.service_ip_allocator(storage, "/registry", "10.0.0.0/29"),
                          node_ports=ipalloc.node_port_allocator(storage, "/registry", "30000-30010"))
    await Registry(for_resource(catalog.NAMESPACES), ctx).create(None, {"metadata": {"name": "default"}})
    return Registry(for_resource(catalog.SERVICES), ctx)


def node_port_service(name: str, node_port: int | None = None) -> dict[str, Any]:
    port: dict[str, Any] = {"port": 80, **({"nodePort": node_port} if node_port else {})}
    return {"metadata": {"name": name}, "spec": {"type": "NodePort", "ports": [port]}}


async def test_a_failed_service_create_gives_back_its_cluster_ip(services: Registry) -> None:
    ips = services.ctx.service_ips
    first = await services.create("default", node_port_service("first"))
    held = await ips.allocated()
    taken = first["spec"]["ports"][0]["nodePort"]
    for i in range(10):  # more attempts than the /29 has addresses
        with pytest.raises(errors.Invalid, match="provided port is already allocated"):
            await services.create("default", node_port_service(f"clash{i}", taken))
    assert await ips.allocated() == held


async def test_a_requested_ip_refused_as_taken_stays_with_its_owner(services: Registry) -> None:
    ips = services.ctx.service_ips
    first = await services.create("default", {"metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}})
    ip = first["spec"]["clusterIP"]
    with pytest.raises(errors.Invalid, match="provided IP is already allocated"):
        await services.create("default", {"metadata": {"name": "b"},
                                          "spec": {"clusterIP": ip, "ports": [{"port": 80}]}})
    assert (await ips.allocated())[ip] == "default/a"


async def test_dry_run_creates_allocate_nothing(services: Registry) -> None:
    ips, ports = services.ctx.service_ips, services.ctx.node_ports
    for i in range(10):
        out = await services.create("default", node_port_service(f"dry{i}"), dry_run=True)
        assert out["spec"]["clusterIP"] and out["spec"]["ports"][0]["nodePort"]
    assert await ips.allocated() == {} and await ports.allocated() == {}


async def test_updates_give_back_node_ports_they_drop_or_fail_to_keep(services: Registry) -> None:
    ports = services.ctx.node_ports
    await services.create("default", node_port_service("holder", 30005))
    plain = {"metadata": {"name": "s"}, "spec": {"ports": [{"name": "a", "port": 80},
                                                           {"name": "b", "port": 81}]}}
    await services.create("default", plain)
    # the second port's clash comes after the first port got a node port
    clash = {"metadata": {"name": "s"}, "spec": {"type": "NodePort", "ports": [
        {"name": "a", "port": 80}, {"name": "b", "port": 81, "nodePort": 30005}]}}
    with pytest.raises(errors.Invalid, match="provided port is already allocated"):
        await services.update("default", "s", clash)
    as_node_port = {"metadata": {"name": "s"}, "spec": {"type": "NodePort", "ports": plain["spec"]["ports"]}}
    dry = await services.update("default", "s", as_node_port, dry_run=True)
    assert all(p["nodePort"] for p in dry["spec"]["ports"])
    assert list((await ports.allocated()).values()) == ["default/holder"]
    await services.update("default", "s", as_node_port)
    assert len(await ports.allocated()) == 3
    await services.update("default", "s", plain)  # back to ClusterIP: its node ports are free again
    assert list((await ports.allocated()).values()) == ["default/holder"]
