"""policy/v1 definitions: PodDisruptionBudget and Eviction (the pods/eviction body)."""

from __future__ import annotations

from .meta_v1 import CONDITION, DELETE_OPTIONS, INT_OR_STRING, LABEL_SELECTOR, OBJECT_META, TIME
from .types import I32, I64, Arr, Desc, Group, MapOf, S

policy = Group("io.k8s.api.policy.v1")

policy.define("PodDisruptionBudget", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": policy.define("PodDisruptionBudgetSpec", {
        "maxUnavailable": Desc(INT_OR_STRING, "An eviction is allowed if at most 'maxUnavailable' pods selected "
                                              "by 'selector' are unavailable after the eviction."),
        "minAvailable": Desc(INT_OR_STRING, "An eviction is allowed if at least 'minAvailable' pods selected by "
                                            "'selector' will still be available after the eviction."),
        "selector": LABEL_SELECTOR, "unhealthyPodEvictionPolicy": S,
    }),
    "status": policy.define("PodDisruptionBudgetStatus", {
        "conditions": Arr(CONDITION, merge_key="type", strategy="merge", list_type="map", map_keys=("type",)),
        "currentHealthy": I32, "desiredHealthy": I32, "disruptedPods": MapOf(TIME), "disruptionsAllowed": I32,
        "expectedPods": I32, "observedGeneration": I64,
    }, required=("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods")),
}, desc="PodDisruptionBudget is an object to define the max disruption that can be caused to a collection of "
        "pods", gvk=("policy", "v1", "PodDisruptionBudget"))

policy.define("Eviction", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META, "deleteOptions": DELETE_OPTIONS,
}, desc="Eviction evicts a pod from its node subject to certain policies and safety constraints.",
    gvk=("policy", "v1", "Eviction"))
