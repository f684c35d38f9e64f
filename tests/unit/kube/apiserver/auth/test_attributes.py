"""Request attributes as upstream's RequestInfoFactory builds them."""

from __future__ import annotations

import pytest

from lab.kube.apiserver.authz.attributes import from_request
from lab.kube.machinery.user import UserInfo

ALICE = UserInfo("alice")


@pytest.mark.parametrize(("method", "path", "query", "want"), [
    ("GET", "/api/v1/namespaces/default/pods", {}, ("list", "default", "", "pods", "", "")),
    ("GET", "/api/v1/namespaces/default/pods/web", {}, ("get", "default", "", "pods", "", "web")),
    ("GET", "/api/v1/namespaces/default/pods", {"watch": "true"}, ("watch", "default", "", "pods", "", "")),
    ("GET", "/api/v1/watch/namespaces/default/pods/web", {}, ("watch", "default", "", "pods", "", "web")),
    ("GET", "/api/v1/pods", {}, ("list", "", "", "pods", "", "")),
    ("POST", "/api/v1/namespaces/default/pods/web/binding", {}, ("create", "default", "", "pods", "binding", "web")),
    ("PUT", "/apis/apps/v1/namespaces/ns1/deployments/d/scale", {},
     ("update", "ns1", "apps", "deployments", "scale", "d")),
    ("PATCH", "/api/v1/nodes/w1/status", {}, ("patch", "", "", "nodes", "status", "w1")),
    ("DELETE", "/api/v1/namespaces/default/pods", {}, ("deletecollection", "default", "", "pods", "", "")),
    ("DELETE", "/api/v1/namespaces/default/pods/p", {}, ("delete", "default", "", "pods", "", "p")),
    # the namespace object itself: its name is also its namespace
    ("GET", "/api/v1/namespaces/dev", {}, ("get", "dev", "", "namespaces", "", "dev")),
    ("PUT", "/api/v1/namespaces/dev/finalize", {}, ("update", "dev", "", "namespaces", "finalize", "dev")),
    ("GET", "/api/v1/namespaces", {}, ("list", "", "", "namespaces", "", "")),
    # a list by exact name is authorized as that name (a kubelet watching its own Node)
    ("GET", "/api/v1/nodes", {"fieldSelector": "metadata.name=w1", "watch": "1"}, ("watch", "", "", "nodes", "", "w1")),
    ("GET", "/api/v1/nodes", {"fieldSelector": "metadata.name!=w1"}, ("list", "", "", "nodes", "", "")),
    # unknown resources are still resource requests (403 before 404)
    ("GET", "/apis/nope.example.com/v1/widgets", {}, ("list", "", "nope.example.com", "widgets", "", "")),
])
def test_resource_requests(method: str, path: str, query: dict[str, str],
                           want: tuple[str, str, str, str, str, str]) -> None:
    a = from_request(ALICE, method, path, query)
    assert a.resource_request
    assert (a.verb, a.namespace, a.api_group, a.resource, a.subresource, a.name) == want


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/healthz"), ("GET", "/api"), ("GET", "/api/v1"), ("GET", "/apis"),
    ("GET", "/apis/apps"), ("GET", "/apis/apps/v1"), ("GET", "/openapi/v2"), ("POST", "/logs"),
])
def test_non_resource_requests(method: str, path: str) -> None:
    a = from_request(ALICE, method, path, {})
    assert not a.resource_request
    assert (a.verb, a.path) == (method.lower(), path)
