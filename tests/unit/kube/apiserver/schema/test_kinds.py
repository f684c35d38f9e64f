"""Realistic objects of each served kind, as components write them, pass strict validation."""

from __future__ import annotations

import pytest

from lab.kube.apiserver.schema import check_fields
from lab.kube.machinery import catalog

T = "2024-05-01T10:00:00Z"
OBJECTS = [
    (catalog.NODES, {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1"}},
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
                 "taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": T}]},
        "status": {
            "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"}, "allocatable": {"cpu": 2, "pods": 110},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "lastHeartbeatTime": T, "lastTransitionTime": T}],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"kubeletVersion": "v1.33.0", "operatingSystem": "linux", "architecture": "amd64"},
        },
    }),
    (catalog.SERVICES, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "type": "NodePort", "clusterIP": "10.96.0.10",
                 "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"}],
                 "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"},
        "status": {"loadBalancer": {}},
    }),
    (catalog.ENDPOINTS, {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
        "subsets": [{"addresses": [{"ip": "10.244.1.5", "nodeName": "node1",
                                    "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "default"}}],
                     "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}],
    }),
    (catalog.ENDPOINTSLICES, {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "web-abcde", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": True, "serving": True,
                                                                   "terminating": False},
                       "nodeName": "node1", "targetRef": {"kind": "Pod", "name": "web-1"}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }),
    (catalog.LEASES, {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "node1", "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": "node1", "leaseDurationSeconds": 40, "renewTime": "2024-05-01T10:00:00.123456Z"},
    }),
    (catalog.EVENTS, {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-1.17", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
        "reason": "Scheduled", "message": "Successfully assigned", "type": "Normal", "count": 1,
        "source": {"component": "default-scheduler"}, "firstTimestamp": T, "lastTimestamp": T,
    }),
    (catalog.NAMESPACES, {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
    }),
    (catalog.CONFIGMAPS, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"},
        "data": {"a.conf": "x=1"}, "binaryData": {"b": "AAEC"},
    }),
    (catalog.REPLICASETS, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-5d8f", "namespace": "default", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u1", "controller": True,
             "blockOwnerDeletion": True}]},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                     {"name": "nginx", "image": "nginx", "readinessProbe": {"tcpSocket": {"port": 80}}}]}}},
        "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "observedGeneration": 1},
    }),
    (catalog.DEPLOYMENTS, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                     {"name": "nginx", "image": "nginx"}]}}},
        "status": {"conditions": [{"type": "Available", "status": "True", "lastUpdateTime": T,
                                   "lastTransitionTime": T, "reason": "MinimumReplicasAvailable"}]},
    }),
]


@pytest.mark.parametrize(("resource", "obj"), OBJECTS, ids=[r.kind for r, _ in OBJECTS])
def test_a_realistic_object_passes_strict_validation(resource, obj):
    assert check_fields(resource, obj, "Strict") == []


def test_a_pod_with_status_from_the_kubelet_passes():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}], "nodeName": "node1"},
           "status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}], "startTime": T,
                      "hostIP": "10.0.0.2", "qosClass": "BestEffort",
                      "containerStatuses": [{"name": "c", "ready": True, "restartCount": 0, "image": "busybox",
                                             "imageID": "sha256:1", "containerID": "containerd://1",
                                             "started": True, "state": {"running": {"startedAt": T}},
                                             "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}
    assert check_fields(catalog.PODS, pod, "Strict") == []
