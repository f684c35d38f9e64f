"""networking.k8s.io/v1 through the API: the docs' Ingress and NetworkPolicy examples apply,
bad ones get upstream's causes, and the tables read as `kubectl get`."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.strategies.networking import INGRESS_CLASSES, INGRESSES, NETWORK_POLICIES
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery import catalog, errors

DOCS_INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {
    "name": "minimal-ingress", "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"}},
    "spec": {"ingressClassName": "nginx-example", "rules": [{"http": {"paths": [{
        "path": "/testpath", "pathType": "Prefix",
        "backend": {"service": {"name": "test", "port": {"number": 80}}}}]}}]}}
DOCS_POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "test-np"},
               "spec": {"podSelector": {"matchLabels": {"role": "db"}},
                        "ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                                              {"namespaceSelector": {"matchLabels": {"project": "myproject"}}}],
                                     "ports": [{"port": 6379}]}],
                        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"port": 5978}]}]}}


def broken(body: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


async def test_the_docs_examples_apply_and_bad_ones_are_refused() -> None:
    async with InMemoryAPI(Settings(insecure_anonymous_admin=True)) as api, Client(api.config) as client:
        ingress = await client.create(catalog.INGRESSES, DOCS_INGRESS, "default")
        assert INGRESSES.row(ingress)[:5] == ["minimal-ingress", "nginx-example", "*", "", "80"]
        policy = await client.create(catalog.NETWORK_POLICIES, DOCS_POLICY, "default")
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        assert policy["spec"]["ingress"][0]["ports"][0]["protocol"] == "TCP"
        assert NETWORK_POLICIES.row(policy)[:2] == ["test-np", "role=db"]
        path = ["spec", "rules", 0, "http", "paths", 0]
        for body, field, message in (
                (broken(DOCS_INGRESS, [*path, "pathType"], "Regex"), "spec.rules[0].http.paths[0].pathType",
                 'Unsupported value: "Regex": supported values: "Exact", "Prefix", "ImplementationSpecific"'),
                (broken(DOCS_INGRESS, [*path, "path"], "testpath"), "spec.rules[0].http.paths[0].path",
                 'Invalid value: "testpath": must be an absolute path'),
                (broken(DOCS_INGRESS, [*path, "backend", "service", "port"], {"name": "http", "number": 80}),
                 "spec.rules[0].http.paths[0].backend.service.port", "cannot set both port name & port number")):
            with pytest.raises(errors.Invalid) as exc:
                await client.create(catalog.INGRESSES, {**body, "metadata": {"name": "bad"}}, "default")
            [cause] = exc.value.causes
            assert cause.field == field and message in cause.message, cause
        bad_cidr = broken(DOCS_POLICY, ["spec", "egress", 0, "to", 0, "ipBlock", "cidr"], "10.0.0.300/24")
        with pytest.raises(errors.Invalid) as exc:
            await client.create(catalog.NETWORK_POLICIES, {**bad_cidr, "metadata": {"name": "bad"}}, "default")
        assert [c.field for c in exc.value.causes] == ["spec.egress[0].to[0].ipBlock.cidr"]


def test_the_ingress_class_table() -> None:
    row = INGRESS_CLASSES.row({"metadata": {"name": "nginx"}, "spec": {
        "controller": "k8s.io/ingress-nginx",
        "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}})
    assert row[:3] == ["nginx", "k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/external-lb"]
