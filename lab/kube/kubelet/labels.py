"""The labels and annotations the kubelet puts on sandboxes and containers (upstream kuberuntime/labels.go).

They are how a restarted kubelet finds its pods again in the runtime: everything it needs to
adopt a container (pod uid, container name, restart count) travels with the container itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of

POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
POD_UID = "io.kubernetes.pod.uid"
CONTAINER_NAME = "io.kubernetes.container.name"
RESTART_COUNT = "io.kubernetes.container.restartCount"
TERMINATION_GRACE = "io.kubernetes.pod.terminationGracePeriod"
CONTAINER_HASH = "io.kubernetes.container.hash"
TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath"
TERMINATION_MESSAGE_POLICY = "io.kubernetes.container.terminationMessagePolicy"


def pod_labels(pod: Obj) -> dict[str, str]:
    """Sandbox labels: the pod's own labels plus the three that identify it."""
    labels = dict(meta.labels(pod))
    labels.update({POD_NAME: meta.name(pod), POD_NAMESPACE: meta.namespace(pod), POD_UID: meta.uid(pod)})
    return labels


def container_labels(pod: Obj, container_name: str) -> dict[str, str]:
    return {POD_NAME: meta.name(pod), POD_NAMESPACE: meta.namespace(pod), POD_UID: meta.uid(pod),
            CONTAINER_NAME: container_name}


def container_annotations(pod: Obj, container: Obj, restart_count: int, spec_hash: str) -> dict[str, str]:
    """What the kubelet must know of a container it finds again in the runtime (after a restart)."""
    grace = spec_of(pod).get("terminationGracePeriodSeconds", 30)
    return {RESTART_COUNT: str(restart_count), TERMINATION_GRACE: str(grace), CONTAINER_HASH: spec_hash,
            TERMINATION_MESSAGE_PATH: str(container.get("terminationMessagePath") or ""),
            TERMINATION_MESSAGE_POLICY: str(container.get("terminationMessagePolicy") or "File")}


def restart_count(annotations: Mapping[str, str]) -> int:
    try:
        return int(annotations.get(RESTART_COUNT, "0"))
    except ValueError:
        return 0


def pod_key(labels: Mapping[str, str]) -> str:
    """The informer key (`namespace/name`) of the pod a runtime object belongs to, or ""."""
    name, ns = labels.get(POD_NAME, ""), labels.get(POD_NAMESPACE, "")
    return f"{ns}/{name}" if name and ns else ""
