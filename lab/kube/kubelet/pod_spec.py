"""Small readings of a pod's spec the kubelet's parts share: its containers by name, its sidecars."""

from __future__ import annotations

from lab.kube.machinery.objects import Obj, spec_of


def is_sidecar(container: Obj) -> bool:
    """A restartable init container (upstream IsRestartableInitContainer)."""
    return container.get("restartPolicy") == "Always"


def container(pod: Obj, name: str) -> Obj | None:
    """The init or regular container called `name`."""
    s = spec_of(pod)
    found: list[Obj] = [c for c in [*(s.get("initContainers") or []), *(s.get("containers") or [])]
                        if c.get("name") == name]
    return found[0] if found else None
