"""Which nodes/<subresource> and verb a kubelet API request asks for (upstream auth.go), with and
without KubeletFineGrainedAuthz."""

from __future__ import annotations

import pytest

from lab.kube.kubelet.server import request_attributes, subresources
from lab.kube.kubelet.server.auth import forbidden_message, is_subpath
from lab.kube.machinery.user import ANONYMOUS_USER


@pytest.mark.parametrize(("path", "fine", "coarse"), [
    ("/stats", ["stats"], ["stats"]),
    ("/stats/summary", ["stats"], ["stats"]),
    ("/statsfoo", ["proxy"], ["proxy"]),
    ("/metrics", ["metrics"], ["metrics"]),
    ("/metrics/cadvisor", ["metrics"], ["metrics"]),
    ("/metrics/probes", ["metrics"], ["metrics"]),
    ("/logs", ["log"], ["log"]),
    ("/logs/syslog", ["log"], ["log"]),
    ("/checkpoint/ns/pod/c", ["checkpoint"], ["checkpoint"]),
    ("/pods", ["pods", "proxy"], ["proxy"]),
    ("/pods/", ["pods", "proxy"], ["proxy"]),
    ("/podsx", ["proxy"], ["proxy"]),
    ("/runningpods/", ["pods", "proxy"], ["proxy"]),
    ("/healthz", ["healthz", "proxy"], ["proxy"]),
    ("/healthz/ping", ["healthz", "proxy"], ["proxy"]),
    ("/configz", ["configz", "proxy"], ["proxy"]),
    ("/exec/ns/pod/c", ["proxy"], ["proxy"]),
    ("/attach/ns/pod/c", ["proxy"], ["proxy"]),
    ("/portForward/ns/pod", ["proxy"], ["proxy"]),
    ("/containerLogs/ns/pod/c", ["proxy"], ["proxy"]),
    ("/run/ns/pod/c", ["proxy"], ["proxy"]),
    ("/debug/pprof/", ["proxy"], ["proxy"]),
    ("/spec/", ["proxy"], ["proxy"]),
    ("/", ["proxy"], ["proxy"]),
])
def test_paths_map_to_node_subresources(path: str, fine: list[str], coarse: list[str]) -> None:
    assert subresources(path, fine_grained=True) == fine
    assert subresources(path, fine_grained=False) == coarse


@pytest.mark.parametrize(("method", "verb"), [
    ("GET", "get"), ("POST", "create"), ("PUT", "update"), ("PATCH", "patch"), ("DELETE", "delete"),
    ("HEAD", ""), ("OPTIONS", ""),  # upstream's switch has no case for them: the empty verb
])
def test_http_methods_map_to_api_verbs(method: str, verb: str) -> None:
    [attrs] = request_attributes(ANONYMOUS_USER, method, "/exec/ns/p/c", "w1")
    assert attrs.verb == verb


def test_attributes_are_this_nodes_nodes_resource() -> None:
    first, second = request_attributes(ANONYMOUS_USER, "GET", "/pods", "w1")
    assert (first.resource, first.subresource, first.name, first.api_version, first.api_group, first.namespace) == (
        "nodes", "pods", "w1", "v1", "", "")
    assert first.resource_request and first.path == "/pods" and second.subresource == "proxy"


def test_is_subpath_matches_whole_segments() -> None:
    assert is_subpath("/stats", "/stats/") and is_subpath("/stats/x", "/stats/")
    assert not is_subpath("/statsx", "/stats/") and not is_subpath("/", "/stats/")


def test_forbidden_messages_as_each_version_writes_them() -> None:
    fine = request_attributes(ANONYMOUS_USER, "GET", "/healthz", "w1", fine_grained=True)
    assert forbidden_message(fine, True) == (
        "Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[healthz proxy])\n")
    coarse = request_attributes(ANONYMOUS_USER, "GET", "/healthz", "w1", fine_grained=False)
    assert forbidden_message(coarse, False) == (
        "Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource=proxy)")
