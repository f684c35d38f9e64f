"""Transitional: the patches `client/fake.py` applies, until the in-memory API server replaces it.

The implementation is `lab.kube.machinery.patches`. Its strategic merge takes merge keys from the
API server's schema, which the client layer may not import, so the fake keeps the field-name
table it had. Nothing else may use this module: delete it together with fake.py.
"""

from __future__ import annotations

from typing import Any

from lab.kube.machinery import patches
from lab.kube.machinery.patches import ListMerge

_BY_FIELD: dict[str, ListMerge] = {
    **{f: ListMerge("name") for f in ("containers", "initContainers", "ephemeralContainers", "volumes",
                                       "env", "imagePullSecrets", "resourceClaims")},
    "volumeMounts": ListMerge("mountPath"), "volumeDevices": ListMerge("devicePath"),
    "conditions": ListMerge("type"), "ownerReferences": ListMerge("uid"), "hostAliases": ListMerge("ip"),
    "finalizers": ListMerge(), "topologySpreadConstraints": ListMerge("topologyKey"),
    "readinessGates": ListMerge("conditionType"), "addresses": ListMerge("type"),
}
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _fake_merge_keys(path: tuple[str, ...]) -> ListMerge | None:
    if path[-1] == "ports":  # the guess the fake always made: a container's ports or a Service's
        return ListMerge("containerPort" if len(path) > 1 and path[-2] in _CONTAINER_LISTS else "port")
    return _BY_FIELD.get(path[-1])


def apply_patch(content_type: str, original: dict[str, Any], patch: Any) -> dict[str, Any]:
    return patches.apply_patch(content_type, original, patch, merge_keys=_fake_merge_keys)
