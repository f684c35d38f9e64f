"""What a pod or a persistent volume names: the secrets, configmaps and claims a kubelet must
read to run it (upstream `podutil.VisitPodSecretNames`, `VisitPodConfigmapNames` and
`persistentvolume.VisitPVSecretNames`). The Node graph and NodeRestriction both ask here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of

# Volume sources whose `secretRef` is a LocalObjectReference (a secret in the pod's namespace).
_POD_SECRET_REF_SOURCES = ("cephfs", "cinder", "flexVolume", "rbd", "iscsi", "scaleIO", "storageos")
# The same sources in a PersistentVolume carry a SecretReference (name and namespace).
_PV_SECRET_REF_SOURCES = ("cephfs", "cinder", "flexVolume", "rbd", "iscsi", "scaleIO", "storageos")
# CSI secrets the kubelet reads (node stage, publish and expand); the controller's are not its.
_CSI_KUBELET_SECRETS = ("nodeStageSecretRef", "nodePublishSecretRef", "nodeExpandSecretRef")


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    for item in value if isinstance(value, list) else ():
        if isinstance(item, dict):
            yield item


def _name(ref: Any, key: str = "name") -> str:
    value = ref.get(key) if isinstance(ref, dict) else None
    return value if isinstance(value, str) else ""


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        yield from _dicts(spec.get(field))


def _env_refs(spec: dict[str, Any], env_key: str, env_from_key: str) -> Iterator[str]:
    for container in _containers(spec):
        for env_from in _dicts(container.get("envFrom")):
            yield _name(env_from.get(env_from_key))
        for env in _dicts(container.get("env")):
            yield _name((env.get("valueFrom") or {}).get(env_key))


def _projected(volume: dict[str, Any], source: str) -> Iterator[str]:
    for src in _dicts((volume.get("projected") or {}).get("sources")):
        yield _name(src.get(source))


def secret_names(pod: Obj) -> set[str]:
    """Secrets (in the pod's namespace) the pod refers to anywhere."""
    spec = spec_of(pod)
    found = {_name(ref) for ref in _dicts(spec.get("imagePullSecrets"))}
    for volume in _dicts(spec.get("volumes")):
        found.add(_name(volume.get("secret"), "secretName"))
        found.update(_projected(volume, "secret"))
        found.add(_name(volume.get("azureFile"), "secretName"))
        found.add(_name((volume.get("csi") or {}).get("nodePublishSecretRef")))
        for source in _POD_SECRET_REF_SOURCES:
            found.add(_name((volume.get(source) or {}).get("secretRef")))
    found.update(_env_refs(spec, "secretKeyRef", "secretRef"))
    found.discard("")
    return found


def configmap_names(pod: Obj) -> set[str]:
    """ConfigMaps (in the pod's namespace) the pod refers to: volumes, projections, env."""
    spec = spec_of(pod)
    found: set[str] = set()
    for volume in _dicts(spec.get("volumes")):
        found.add(_name(volume.get("configMap")))
        found.update(_projected(volume, "configMap"))
    found.update(_env_refs(spec, "configMapKeyRef", "configMapRef"))
    found.discard("")
    return found


def claim_names(pod: Obj) -> set[str]:
    """PersistentVolumeClaims the pod mounts; a generic ephemeral volume's claim is named
    `<pod>-<volume>` (upstream `ephemeral.VolumeClaimName`)."""
    found: set[str] = set()
    for volume in _dicts(spec_of(pod).get("volumes")):
        found.add(_name(volume.get("persistentVolumeClaim"), "claimName"))
        if isinstance(volume.get("ephemeral"), dict):
            found.add(f"{meta.name(pod)}-{_name(volume)}")
    found.discard("")
    return found


def references_cluster_trust_bundles(pod: Obj) -> bool:
    return any(src.get("clusterTrustBundle") for volume in _dicts(spec_of(pod).get("volumes"))
               for src in _dicts((volume.get("projected") or {}).get("sources")))


def pv_secret_refs(pv: Obj) -> set[tuple[str, str]]:
    """(namespace, name) of the secrets a kubelet reads to mount the volume. azureFile's
    secret lives in `secretNamespace`, else in the bound claim's namespace."""
    spec = spec_of(pv)
    claim_ns = _name(spec.get("claimRef"), "namespace")
    found: set[tuple[str, str]] = set()
    azure = spec.get("azureFile")
    if isinstance(azure, dict) and _name(azure, "secretName"):
        found.add((_name(azure, "secretNamespace") or claim_ns or "default", _name(azure, "secretName")))
    refs = [(spec.get(s) or {}).get("secretRef") for s in _PV_SECRET_REF_SOURCES]
    refs += [(spec.get("csi") or {}).get(key) for key in _CSI_KUBELET_SECRETS]
    for ref in refs:
        if _name(ref):
            found.add((_name(ref, "namespace") or claim_ns, _name(ref)))
    return {(ns, name) for ns, name in found if ns}
