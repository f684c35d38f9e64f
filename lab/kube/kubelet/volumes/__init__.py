"""Pod volumes the kubelet fills on the node: projected volumes (a bound ServiceAccount token,
ConfigMap and Secret keys, downward API fields) written atomically and bind-mounted read-only."""

from lab.kube.kubelet.volumes.manager import VolumeManager, VolumeNotReady
from lab.kube.kubelet.volumes.objects import CachedObjects, ObjectGetter

__all__ = ["CachedObjects", "ObjectGetter", "VolumeManager", "VolumeNotReady"]
