"""The Node graph: a pod bound to a node leads everything it names to that node; an update
replaces the pod's edges, a delete forgets them; persistent volumes lead to their claims."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.node.graph import CONFIGMAP, POD, PV, PVC, SECRET, SERVICE_ACCOUNT, Graph, Vertex


def pod(name: str, node: str | None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}], **spec}
    if node:
        body["nodeName"] = node
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": body}


EVERYWHERE = {
    "serviceAccountName": "runner",
    "imagePullSecrets": [{"name": "pull"}],
    "volumes": [
        {"name": "v1", "secret": {"secretName": "vol-secret"}},
        {"name": "v2", "configMap": {"name": "vol-cm"}},
        {"name": "v3", "projected": {"sources": [{"secret": {"name": "proj-secret"}},
                                                 {"configMap": {"name": "proj-cm"}}]}},
        {"name": "v4", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
        {"name": "v5", "csi": {"driver": "d", "nodePublishSecretRef": {"name": "csi-secret"}}},
    ],
    "initContainers": [{"name": "init", "image": "i",
                        "envFrom": [{"secretRef": {"name": "init-envfrom"}}]}],
    "containers": [{"name": "c", "image": "i",
                    "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}},
                            {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "k"}}}],
                    "envFrom": [{"configMapRef": {"name": "envfrom-cm"}}]}],
}


def test_everything_a_bound_pod_names_leads_to_its_node_and_no_other() -> None:
    graph = Graph()
    graph.add_pod(pod("web", "w1", **EVERYWHERE))
    graph.add_pod(pod("other", "w2"))
    named = [(SECRET, n) for n in ("pull", "vol-secret", "proj-secret", "csi-secret", "init-envfrom",
                                   "env-secret")]
    named += [(CONFIGMAP, n) for n in ("vol-cm", "proj-cm", "env-cm", "envfrom-cm")]
    named += [(PVC, "data"), (PVC, "web-scratch"), (SERVICE_ACCOUNT, "runner"), (POD, "web")]
    for kind, name in named:
        assert graph.has_path(Vertex(kind, "ns", name), "w1"), (kind, name)
        assert not graph.has_path(Vertex(kind, "ns", name), "w2"), (kind, name)
    assert not graph.has_path(Vertex(SECRET, "other-ns", "pull"), "w1")  # namespaces are part of the name
    assert not graph.has_path(Vertex(SECRET, "ns", "unused"), "w1")
    assert not graph.has_path(Vertex(SECRET, "ns", "pull"), "nowhere")


def test_an_update_replaces_the_edges_and_a_delete_forgets_them() -> None:
    graph = Graph()
    graph.add_pod(pod("web", "w1", volumes=[{"name": "v", "secret": {"secretName": "a"}}]))
    graph.add_pod(pod("web", "w1", volumes=[{"name": "v", "secret": {"secretName": "b"}}]))
    assert not graph.has_path(Vertex(SECRET, "ns", "a"), "w1")
    assert graph.has_path(Vertex(SECRET, "ns", "b"), "w1")
    graph.delete_pod("ns", "web")
    assert not graph.has_path(Vertex(SECRET, "ns", "b"), "w1")
    assert len(graph) == 0  # nothing is left behind


def test_a_secret_two_pods_share_stays_linked_until_the_last_goes() -> None:
    graph = Graph()
    uses = {"volumes": [{"name": "v", "secret": {"secretName": "shared"}}]}
    graph.add_pod(pod("a", "w1", **uses))
    graph.add_pod(pod("b", "w1", **uses))
    graph.delete_pod("ns", "a")
    assert graph.has_path(Vertex(SECRET, "ns", "shared"), "w1")
    graph.delete_pod("ns", "b")
    assert not graph.has_path(Vertex(SECRET, "ns", "shared"), "w1")


def test_unscheduled_pods_lead_nowhere_and_mirror_pods_only_to_their_node() -> None:
    graph = Graph()
    graph.add_pod(pod("pending", None, volumes=[{"name": "v", "secret": {"secretName": "s"}}]))
    assert len(graph) == 0
    mirror = pod("static", "w1", volumes=[{"name": "v", "secret": {"secretName": "s"}}])
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "hash"}
    graph.add_pod(mirror)
    assert graph.has_path(Vertex(POD, "ns", "static"), "w1")
    assert not graph.has_path(Vertex(SECRET, "ns", "s"), "w1")


def test_a_bound_volume_leads_through_its_claim_and_brings_its_secrets() -> None:
    graph = Graph()
    graph.add_pod(pod("db", "w1", volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]))
    pv = {"metadata": {"name": "pv1"},
          "spec": {"claimRef": {"namespace": "ns", "name": "data"},
                   "csi": {"driver": "d", "nodeStageSecretRef": {"name": "stage", "namespace": "vault"},
                           "controllerPublishSecretRef": {"name": "ctrl", "namespace": "vault"}}}}
    graph.add_pv(pv)
    assert graph.has_path(Vertex(PV, "", "pv1"), "w1")
    assert graph.has_path(Vertex(SECRET, "vault", "stage"), "w1")
    assert not graph.has_path(Vertex(SECRET, "vault", "ctrl"), "w1")  # the controller's, not the kubelet's
    graph.delete_pod("ns", "db")
    assert not graph.has_path(Vertex(PV, "", "pv1"), "w1")
    graph.delete_pv("pv1")
    assert len(graph) == 0
