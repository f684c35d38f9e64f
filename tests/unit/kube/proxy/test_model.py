"""Joining Services to EndpointSlices: labels, port names, readiness, many slices."""

from __future__ import annotations

from lab.kube.proxy.model import service_ports, usable_endpoints

from .objects import endpoint, endpoint_slice, service

WEB = service("web", "10.96.0.10", ("http", 80, "TCP"))


def test_endpoints_of_every_slice_of_the_service_are_merged_once() -> None:
    slices = [endpoint_slice("web", [endpoint("10.244.1.5"), endpoint("10.244.1.6")], ("http", 8080, "TCP"), name="a"),
              endpoint_slice("web", [endpoint("10.244.1.6"), endpoint("10.244.2.7")], ("http", 8080, "TCP"), name="b"),
              endpoint_slice("other", [endpoint("10.244.9.9")], ("http", 8080, "TCP"))]
    (sp,) = service_ports([WEB], slices)
    assert [e.address for e in sp.endpoints] == ["10.244.1.5:8080", "10.244.1.6:8080", "10.244.2.7:8080"]


def test_missing_conditions_mean_ready_as_upstream() -> None:
    slice_ = endpoint_slice("web", [{"addresses": ["10.244.1.5"]}], ("http", 8080, "TCP"))
    (sp,) = service_ports([WEB], [slice_])
    assert [e.ready for e in sp.endpoints] == [True]


def test_slices_in_another_namespace_do_not_count() -> None:
    slice_ = endpoint_slice("web", [endpoint("10.244.1.5")], ("http", 8080, "TCP"), namespace="prod")
    (sp,) = service_ports([WEB], [slice_])
    assert sp.endpoints == ()


def test_internal_traffic_policy_local_keeps_this_nodes_endpoints() -> None:
    svc = service("web", "10.96.0.10", ("http", 80, "TCP"), internalTrafficPolicy="Local")
    eps = [dict(endpoint("10.244.1.5"), nodeName="w1"), dict(endpoint("10.244.2.5"), nodeName="w2")]
    (sp,) = service_ports([svc], [endpoint_slice("web", eps, ("http", 8080, "TCP"))])
    assert [e.ip for e in usable_endpoints(sp, "w1")] == ["10.244.1.5"]
    assert [e.ip for e in usable_endpoints(sp, "w3")] == []
