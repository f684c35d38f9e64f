"""core/v1 Volume and the common volume sources: emptyDir, hostPath, configMap, secret,
projected, downwardAPI, persistentVolumeClaim, nfs, csi, image.
"""

from __future__ import annotations

from .core_v1 import LOCAL_OBJECT_REFERENCE, core
from .meta_v1 import LABEL_SELECTOR, QUANTITY
from .types import I32, I64, SMAP, Arr, B, Desc, S

KEY_TO_PATH = core.define("KeyToPath", {"key": S, "mode": I32, "path": S}, required=("key", "path"),
                          desc="Maps a string key to a path within a volume.")
ITEMS = Arr(KEY_TO_PATH, list_type="atomic")
OBJECT_FIELD_SELECTOR = core.define("ObjectFieldSelector", {"apiVersion": S, "fieldPath": S},
                                    required=("fieldPath",),
                                    desc="ObjectFieldSelector selects an APIVersioned field of an object.")
RESOURCE_FIELD_SELECTOR = core.define("ResourceFieldSelector", {
    "containerName": S, "divisor": QUANTITY, "resource": S,
}, required=("resource",),
    desc="ResourceFieldSelector represents container resources (cpu, memory) and their output format.")
DOWNWARD_FILE = core.define("DownwardAPIVolumeFile", {
    "fieldRef": OBJECT_FIELD_SELECTOR, "mode": I32, "path": S, "resourceFieldRef": RESOURCE_FIELD_SELECTOR,
}, required=("path",), desc="DownwardAPIVolumeFile represents information to create the file containing the pod field.")

SOURCES = {
    "configMap": core.define("ConfigMapVolumeSource", {
        "defaultMode": I32, "items": ITEMS, "name": S, "optional": B,
    }, desc="Adapts a ConfigMap into a volume."),
    "csi": core.define("CSIVolumeSource", {
        "driver": S, "fsType": S, "nodePublishSecretRef": LOCAL_OBJECT_REFERENCE, "readOnly": B,
        "volumeAttributes": SMAP,
    }, required=("driver",)),
    "downwardAPI": core.define("DownwardAPIVolumeSource", {
        "defaultMode": I32, "items": Arr(DOWNWARD_FILE, list_type="atomic"),
    }, desc="DownwardAPIVolumeSource represents a volume containing downward API info."),
    "emptyDir": core.define("EmptyDirVolumeSource", {
        "medium": Desc(S, "What type of storage medium should back this directory: \"\" or \"Memory\"."),
        "sizeLimit": QUANTITY,
    }, desc="Represents an empty directory for a pod."),
    "hostPath": core.define("HostPathVolumeSource", {"path": S, "type": S}, required=("path",),
                            desc="Represents a host path mapped into a pod."),
    "image": core.define("ImageVolumeSource", {"pullPolicy": S, "reference": S}),
    "nfs": core.define("NFSVolumeSource", {"path": S, "readOnly": B, "server": S}, required=("server", "path")),
    "persistentVolumeClaim": core.define("PersistentVolumeClaimVolumeSource", {"claimName": S, "readOnly": B},
                                         required=("claimName",)),
    "projected": core.define("ProjectedVolumeSource", {
        "defaultMode": I32,
        "sources": Arr(core.define("VolumeProjection", {
            "clusterTrustBundle": core.define("ClusterTrustBundleProjection", {
                "labelSelector": LABEL_SELECTOR, "name": S, "optional": B, "path": S, "signerName": S,
            }, required=("path",)),
            "configMap": core.define("ConfigMapProjection", {"items": ITEMS, "name": S, "optional": B}),
            "downwardAPI": core.define("DownwardAPIProjection", {"items": Arr(DOWNWARD_FILE, list_type="atomic")}),
            "secret": core.define("SecretProjection", {"items": ITEMS, "name": S, "optional": B}),
            "serviceAccountToken": core.define("ServiceAccountTokenProjection", {
                "audience": S, "expirationSeconds": I64, "path": S}, required=("path",)),
        }), list_type="atomic"),
    }, desc="Represents a projected volume source."),
    "secret": core.define("SecretVolumeSource", {
        "defaultMode": I32, "items": ITEMS, "optional": B, "secretName": S,
    }, desc="Adapts a Secret into a volume."),
}

VOLUME = core.define("Volume", {"name": S, **SOURCES}, required=("name",),
                     desc="Volume represents a named volume in a pod that may be accessed by any container in the pod.")
