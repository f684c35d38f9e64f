"""apps/v1 definitions: Deployment, ReplicaSet, DaemonSet and ControllerRevision."""

from __future__ import annotations

from .core_v1_pod import POD_TEMPLATE_SPEC
from .meta_v1 import INT_OR_STRING, LABEL_SELECTOR, OBJECT_META, RAW, TIME
from .types import I32, I64, Arr, B, Desc, Group, S

apps = Group("io.k8s.api.apps.v1")


def _conditions(kind: str) -> Arr:
    cond = apps.define(f"{kind}Condition", {
        "lastTransitionTime": TIME, "lastUpdateTime": TIME, "message": S, "reason": S, "status": S, "type": S,
    } if kind == "Deployment" else {
        "lastTransitionTime": TIME, "message": S, "reason": S, "status": S, "type": S,
    }, required=("type", "status"))
    return Arr(cond, merge_key="type", strategy="merge", list_type="map", map_keys=("type",))


SELECTOR = Desc(LABEL_SELECTOR, "Label selector for pods. It must match the pod template's labels.")
TEMPLATE = Desc(POD_TEMPLATE_SPEC, "Template describes the pods that will be created.")

apps.define("Deployment", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": apps.define("DeploymentSpec", {
        "minReadySeconds": I32, "paused": B, "progressDeadlineSeconds": I32,
        "replicas": Desc(I32, "Number of desired pods. Defaults to 1."),
        "revisionHistoryLimit": I32, "selector": SELECTOR,
        "strategy": apps.define("DeploymentStrategy", {
            "rollingUpdate": apps.define("RollingUpdateDeployment", {
                "maxSurge": INT_OR_STRING, "maxUnavailable": INT_OR_STRING}),
            "type": Desc(S, "Type of deployment: \"Recreate\" or \"RollingUpdate\"."),
        }),
        "template": TEMPLATE,
    }, required=("selector", "template"),
        desc="DeploymentSpec is the specification of the desired behavior of the Deployment."),
    "status": apps.define("DeploymentStatus", {
        "availableReplicas": I32, "collisionCount": I32, "conditions": _conditions("Deployment"),
        "observedGeneration": I64, "readyReplicas": I32, "replicas": I32, "terminatingReplicas": I32,
        "unavailableReplicas": I32, "updatedReplicas": I32,
    }),
}, desc="Deployment enables declarative updates for Pods and ReplicaSets.", gvk=("apps", "v1", "Deployment"))

apps.define("ReplicaSet", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": apps.define("ReplicaSetSpec", {
        "minReadySeconds": I32, "replicas": I32, "selector": SELECTOR, "template": TEMPLATE,
    }, required=("selector",)),
    "status": apps.define("ReplicaSetStatus", {
        "availableReplicas": I32, "conditions": _conditions("ReplicaSet"), "fullyLabeledReplicas": I32,
        "observedGeneration": I64, "readyReplicas": I32, "replicas": I32, "terminatingReplicas": I32,
    }, required=("replicas",)),
}, desc="ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
    gvk=("apps", "v1", "ReplicaSet"))

apps.define("DaemonSet", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": apps.define("DaemonSetSpec", {
        "minReadySeconds": I32, "revisionHistoryLimit": I32, "selector": SELECTOR, "template": TEMPLATE,
        "updateStrategy": apps.define("DaemonSetUpdateStrategy", {
            "rollingUpdate": apps.define("RollingUpdateDaemonSet", {
                "maxSurge": INT_OR_STRING, "maxUnavailable": INT_OR_STRING}),
            "type": Desc(S, "Type of daemon set update. Can be 'RollingUpdate' or 'OnDelete'."),
        }),
    }, required=("selector", "template"), desc="DaemonSetSpec is the specification of a daemon set."),
    "status": apps.define("DaemonSetStatus", {
        "collisionCount": I32, "conditions": _conditions("DaemonSet"), "currentNumberScheduled": I32,
        "desiredNumberScheduled": I32, "numberAvailable": I32, "numberMisscheduled": I32, "numberReady": I32,
        "numberUnavailable": I32, "observedGeneration": I64, "updatedNumberScheduled": I32,
    }, required=("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady")),
}, desc="DaemonSet represents the configuration of a daemon set.", gvk=("apps", "v1", "DaemonSet"))

apps.define("ControllerRevision", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "data": Desc(RAW, "Data is the serialized representation of the state."),
    "revision": Desc(I64, "Revision indicates the revision of the state represented by Data."),
}, required=("revision",), desc="ControllerRevision implements an immutable snapshot of state data.",
    gvk=("apps", "v1", "ControllerRevision"))
