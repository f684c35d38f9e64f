"""Strategic merge keys come from the schema of the kind being patched, as upstream's Go tags say.

Expected keys are upstream's `patchStrategy:"merge" patchMergeKey:"..."` tags (k8s.io/api
core/v1 and apps/v1 types.go, apimachinery ObjectMeta); a list without them is atomic.
"""

from __future__ import annotations

import pytest

from lab.kube.apiserver.schema import definitions, merge_keys
from lab.kube.apiserver.schema.types import Arr, field_type
from lab.kube.machinery.patches import ListMerge, MergeKeys, strategic_merge

POD = merge_keys("io.k8s.api.core.v1.Pod")
SERVICE = merge_keys("io.k8s.api.core.v1.Service")
DEPLOYMENT = merge_keys("io.k8s.api.apps.v1.Deployment")

UPSTREAM = [
    (POD, ("metadata", "finalizers"), ListMerge()),
    (POD, ("metadata", "ownerReferences"), ListMerge("uid")),
    (POD, ("spec", "containers"), ListMerge("name")),
    (POD, ("spec", "initContainers"), ListMerge("name")),
    (POD, ("spec", "ephemeralContainers"), ListMerge("name")),
    (POD, ("spec", "containers", "ports"), ListMerge("containerPort")),
    (POD, ("spec", "containers", "env"), ListMerge("name")),
    (POD, ("spec", "containers", "volumeMounts"), ListMerge("mountPath")),
    (POD, ("spec", "containers", "volumeDevices"), ListMerge("devicePath")),
    (POD, ("spec", "volumes"), ListMerge("name")),
    (POD, ("spec", "imagePullSecrets"), ListMerge("name")),
    (POD, ("spec", "hostAliases"), ListMerge("ip")),
    (POD, ("spec", "topologySpreadConstraints"), ListMerge("topologyKey")),
    (POD, ("spec", "schedulingGates"), ListMerge("name")),
    (POD, ("spec", "resourceClaims"), ListMerge("name")),
    (POD, ("status", "conditions"), ListMerge("type")),
    (POD, ("status", "podIPs"), ListMerge("ip")),
    (POD, ("status", "hostIPs"), ListMerge("ip")),
    (SERVICE, ("spec", "ports"), ListMerge("port")),
    (SERVICE, ("status", "conditions"), ListMerge("type")),
    (DEPLOYMENT, ("spec", "template", "spec", "containers"), ListMerge("name")),
    (DEPLOYMENT, ("spec", "template", "spec", "containers", "ports"), ListMerge("containerPort")),
    (DEPLOYMENT, ("status", "conditions"), ListMerge("type")),
    (merge_keys("io.k8s.api.apps.v1.ReplicaSet"), ("status", "conditions"), ListMerge("type")),
    (merge_keys("io.k8s.api.core.v1.Node"), ("spec", "podCIDRs"), ListMerge()),
    (merge_keys("io.k8s.api.core.v1.Node"), ("status", "conditions"), ListMerge("type")),
    (merge_keys("io.k8s.api.core.v1.Node"), ("status", "addresses"), ListMerge("type")),
    (merge_keys("io.k8s.api.core.v1.Namespace"), ("status", "conditions"), ListMerge("type")),
    # no patch tags upstream: replaced whole
    (POD, ("spec", "tolerations"), None),
    (POD, ("spec", "readinessGates"), None),
    (POD, ("spec", "containers", "args"), None),
    (POD, ("spec", "containers", "envFrom"), None),
    (POD, ("spec", "containers", "resources", "claims"), None),
    (POD, ("status", "containerStatuses"), None),
    (merge_keys("io.k8s.api.core.v1.Node"), ("spec", "taints"), None),
    (merge_keys("io.k8s.api.core.v1.Namespace"), ("spec", "finalizers"), None),
    (merge_keys("io.k8s.api.core.v1.Endpoints"), ("subsets",), None),
    (merge_keys("io.k8s.api.core.v1.Endpoints"), ("subsets", "ports"), None),
    (merge_keys("io.k8s.api.discovery.v1.EndpointSlice"), ("ports",), None),
    (merge_keys("io.k8s.api.discovery.v1.EndpointSlice"), ("endpoints", "addresses"), None),
    (SERVICE, ("status", "loadBalancer", "ingress", "ports"), None),
    # not a list of the schema at all
    (POD, ("metadata", "labels", "app"), None),
    (POD, ("spec", "nodeName"), None),
    (POD, ("spec", "bogus"), None),
]


@pytest.mark.parametrize(("lookup", "path", "expected"), UPSTREAM,
                         ids=[f"{lk.root.rsplit('.', 1)[-1]}:{'.'.join(p)}" for lk, p, _ in UPSTREAM])
def test_merge_keys_match_upstream(lookup: MergeKeys, path: tuple[str, ...], expected: ListMerge | None) -> None:
    assert lookup(path) == expected


def test_every_merge_list_in_the_schema_answers_with_its_key() -> None:
    """The lookup reads the schema's own metadata; there is no second table to fall out of step."""
    seen = 0
    for name, definition in definitions().items():
        for field, spec in definition.props.items():
            t = field_type(spec)
            if isinstance(t, Arr):
                merges = "merge" in t.strategy.split(",")
                assert merge_keys(name)((field,)) == (ListMerge(t.merge_key) if merges else None)
                seen += merges
    assert seen >= 20


def test_container_ports_merge_by_container_port_and_service_ports_by_port() -> None:
    pod = {"spec": {"containers": [{"name": "web", "ports": [
        {"containerPort": 80, "name": "http"}, {"containerPort": 8080, "name": "alt"}]}]}}
    out = strategic_merge(pod, {"spec": {"containers": [{"name": "web", "ports": [
        {"containerPort": 8080, "name": "admin"}, {"containerPort": 443, "name": "https"}]}]}}, POD)
    assert out["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "name": "http"}, {"containerPort": 8080, "name": "admin"},
        {"containerPort": 443, "name": "https"}]

    svc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}}
    out = strategic_merge(svc, {"spec": {"ports": [{"port": 443, "targetPort": 9443}, {"port": 53}]}}, SERVICE)
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443},
                                    {"port": 53}]


def test_env_merges_by_name_inside_a_deployments_pod_template() -> None:
    dep = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}}}}
    out = strategic_merge(dep, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "B", "value": "3"}, {"name": "A", "$patch": "delete"}]}]}}}}, DEPLOYMENT)
    assert out["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "B", "value": "3"}]


def test_conditions_merge_by_type() -> None:
    pod = {"status": {"conditions": [{"type": "PodScheduled", "status": "True"},
                                     {"type": "Ready", "status": "False"}]}}
    out = strategic_merge(pod, {"status": {"conditions": [{"type": "Ready", "status": "True"},
                                                          {"type": "Initialized", "status": "True"}]}}, POD)
    assert out["status"]["conditions"] == [{"type": "PodScheduled", "status": "True"},
                                           {"type": "Ready", "status": "True"},
                                           {"type": "Initialized", "status": "True"}]


def test_a_list_without_a_merge_key_is_replaced_whole() -> None:
    pod = {"spec": {"tolerations": [{"key": "a", "operator": "Exists"}],
                    "containers": [{"name": "web", "args": ["--one", "--two"]}]}}
    out = strategic_merge(pod, {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}],
                                         "containers": [{"name": "web", "args": ["--three"]}]}}, POD)
    assert out["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]
    assert out["spec"]["containers"][0]["args"] == ["--three"]

    # `ports` of an EndpointSlice is atomic: the field name alone does not make a list merge
    slice_ = {"ports": [{"port": 80, "name": "http"}]}
    out = strategic_merge(slice_, {"ports": [{"port": 443, "name": "https"}]},
                          merge_keys("io.k8s.api.discovery.v1.EndpointSlice"))
    assert out["ports"] == [{"port": 443, "name": "https"}]


def test_an_unknown_definition_is_an_error_not_an_all_atomic_schema() -> None:
    with pytest.raises(KeyError):
        merge_keys("io.k8s.api.core.v1.Widget")
