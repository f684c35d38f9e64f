"""The schema covers every served kind under upstream names, with GVKs and patch metadata."""

from __future__ import annotations

from lab.kube.apiserver.schema import definitions, kind_name, list_name, reachable
from lab.kube.apiserver.schema.types import Arr, Ref, field_type
from lab.kube.machinery import catalog


def test_every_catalog_resource_has_a_kind_and_a_list_definition_with_its_gvk():
    defs = definitions()
    for res in catalog.RESOURCES:
        kind, lst = defs[kind_name(res)], defs[list_name(res)]
        assert kind.gvk == ((res.group, res.version, res.kind),)
        assert lst.gvk == ((res.group, res.version, res.list_kind_name),)
        assert {"apiVersion", "kind", "metadata"} <= set(kind.props)


def test_upstream_names_are_used():
    defs = definitions()
    for name in ("io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.Deployment",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.api.discovery.v1.EndpointSlice",
                 "io.k8s.api.coordination.v1.Lease", "io.k8s.apimachinery.pkg.api.resource.Quantity",
                 "io.k8s.apimachinery.pkg.util.intstr.IntOrString", "io.k8s.api.autoscaling.v1.Scale"):
        assert name in defs


def test_every_reference_resolves():
    defs = definitions()
    assert set(reachable(sorted(defs))) == set(defs)


def test_containers_merge_by_name_for_strategic_merge_patch():
    spec = definitions()["io.k8s.api.core.v1.PodSpec"]
    containers = field_type(spec.props["containers"])
    volumes = field_type(spec.props["volumes"])
    assert isinstance(containers, Arr) and containers.items == Ref("io.k8s.api.core.v1.Container")
    assert (containers.merge_key, containers.strategy) == ("name", "merge")
    assert (volumes.merge_key, volumes.strategy) == ("name", "merge,retainKeys")
    env = field_type(definitions()["io.k8s.api.core.v1.Container"].props["env"])
    assert (env.merge_key, env.strategy) == ("name", "merge")
