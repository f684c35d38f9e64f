"""Small readings of a pod's spec the kubelet's parts share: its containers by name, its sidecars."""

from __future__ import annotations

from lab.kube.machinery.objects import Obj, spec_of


def is_sidecar(container: Obj) -> bool:
    """A restartable init container (upstream IsRestartableInitContainer)."""
    return container.get("restartPolicy") == "Always"


def sidecar_names(pod: Obj) -> list[str]:
    """The pod's sidecars, in the order they start."""
    return [c["name"] for c in spec_of(pod).get("initContainers") or [] if is_sidecar(c)]


def container(pod: Obj, name: str) -> Obj | None:
    """The init or regular container called `name`."""
    s = spec_of(pod)
    found: list[Obj] = [c for c in [*(s.get("initContainers") or []), *(s.get("containers") or [])]
                        if c.get("name") == name]
    return found[0] if found else None
