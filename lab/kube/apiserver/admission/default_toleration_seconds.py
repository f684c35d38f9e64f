"""DefaultTolerationSeconds admission (upstream `plugin/pkg/admission/defaulttolerationseconds`,
on by default): a pod that does not tolerate the `node.kubernetes.io/not-ready` or
`.../unreachable` NoExecute taints gets a toleration of each for
`--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds` (300),
so its node's loss evicts it after five minutes rather than at once.
"""

from __future__ import annotations

from collections.abc import Mapping

from lab.kube.apiserver.admission.chain import AdmissionRequest, Operation
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.settings import Settings
from lab.kube.machinery import catalog
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.taints import NO_EXECUTE, NOT_READY, UNREACHABLE


def tolerates_key(tolerations: list[Obj], key: str) -> bool:
    """A toleration for `key` (or every key) with effect NoExecute (or every effect)."""
    return any(t.get("key", "") in (key, "") and t.get("effect", "") in (NO_EXECUTE, "") for t in tolerations)


class DefaultTolerationSeconds:
    name = "DefaultTolerationSeconds"

    def __init__(self, not_ready_seconds: int = 300, unreachable_seconds: int = 300) -> None:
        self.not_ready_seconds, self.unreachable_seconds = not_ready_seconds, unreachable_seconds

    async def admit(self, request: AdmissionRequest) -> None:
        if (request.resource != catalog.PODS or request.subresource or request.obj is None
                or request.operation not in (Operation.CREATE, Operation.UPDATE)):
            return
        spec = request.obj.get("spec")
        if not isinstance(spec, dict):
            return
        tolerations = spec.get("tolerations")
        if tolerations is not None and not isinstance(tolerations, list):
            return  # validation answers for it
        tolerations = list(tolerations or [])
        for key, seconds in ((NOT_READY, self.not_ready_seconds), (UNREACHABLE, self.unreachable_seconds)):
            if not tolerates_key(tolerations, key):
                tolerations.append({"key": key, "operator": "Exists", "effect": NO_EXECUTE,
                                    "tolerationSeconds": seconds})
        spec["tolerations"] = tolerations


def plugin(settings: Settings, registries: Mapping[Resource, Registry]) -> DefaultTolerationSeconds:
    return DefaultTolerationSeconds(settings.default_not_ready_toleration_seconds,
                                    settings.default_unreachable_toleration_seconds)
