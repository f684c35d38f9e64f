"""core/v1 Pod: PodSpec, Container, probes, security contexts, affinity, tolerations, PodStatus.

Patch metadata (merge keys, strategies, list types) matches upstream, because
kubectl's strategic merge patch reads it from the served OpenAPI documents and the
server's merges by it (`merge_keys`).
"""

from __future__ import annotations

from typing import Any

from .core_v1 import LOCAL_OBJECT_REFERENCE, RESOURCES, core
from .core_v1_volume import OBJECT_FIELD_SELECTOR, RESOURCE_FIELD_SELECTOR, VOLUME
from .meta_v1 import INT_OR_STRING, LABEL_SELECTOR, OBJECT_META, TIME
from .types import I32, I64, SMAP, Arr, B, Desc, FieldSpec, MapOf, S

ATOMIC_STRINGS = Arr(S, list_type="atomic")


def _by(key: str, *extra: str) -> dict[str, Any]:
    """Patch metadata of a list merged by `key` (kubectl strategic merge patch)."""
    return {"merge_key": key, "strategy": "merge", "list_type": "map", "map_keys": (key, *extra)}


# --- containers --------------------------------------------------------------------------------
KEY_SELECTOR: dict[str, FieldSpec] = {"key": S, "name": S, "optional": B}
ENV_VAR = core.define("EnvVar", {
    "name": S, "value": S,
    "valueFrom": core.define("EnvVarSource", {
        "configMapKeyRef": core.define("ConfigMapKeySelector", KEY_SELECTOR, required=("key",)),
        "fieldRef": OBJECT_FIELD_SELECTOR,
        "resourceFieldRef": RESOURCE_FIELD_SELECTOR,
        "secretKeyRef": core.define("SecretKeySelector", KEY_SELECTOR, required=("key",)),
    }),
}, required=("name",), desc="EnvVar represents an environment variable present in a Container.")
ENV_FROM = core.define("EnvFromSource", {
    "configMapRef": core.define("ConfigMapEnvSource", {"name": S, "optional": B}),
    "prefix": S,
    "secretRef": core.define("SecretEnvSource", {"name": S, "optional": B}),
})
RESOURCE_REQUIREMENTS = core.define("ResourceRequirements", {
    "claims": Arr(core.define("ResourceClaim", {"name": S, "request": S}, required=("name",)),
                  list_type="map", map_keys=("name",)),
    "limits": Desc(RESOURCES, "Limits describes the maximum amount of compute resources allowed."),
    "requests": Desc(RESOURCES, "Requests describes the minimum amount of compute resources required."),
}, desc="ResourceRequirements describes the compute resource requirements.")

EXEC = core.define("ExecAction", {"command": ATOMIC_STRINGS})
HTTP_GET = core.define("HTTPGetAction", {
    "host": S,
    "httpHeaders": Arr(core.define("HTTPHeader", {"name": S, "value": S}, required=("name", "value")),
                       list_type="atomic"),
    "path": S, "port": INT_OR_STRING, "scheme": S,
}, required=("port",), desc="HTTPGetAction describes an action based on HTTP Get requests.")
TCP_SOCKET = core.define("TCPSocketAction", {"host": S, "port": INT_OR_STRING}, required=("port",))
PROBE = core.define("Probe", {
    "exec": EXEC,
    "failureThreshold": I32,
    "grpc": core.define("GRPCAction", {"port": I32, "service": S}, required=("port",)),
    "httpGet": HTTP_GET,
    "initialDelaySeconds": I32,
    "periodSeconds": Desc(I32, "How often (in seconds) to perform the probe. Default to 10 seconds."),
    "successThreshold": I32,
    "tcpSocket": TCP_SOCKET,
    "terminationGracePeriodSeconds": I64,
    "timeoutSeconds": I32,
}, desc="Probe describes a health check to be performed against a container.")
HANDLER = core.define("LifecycleHandler", {
    "exec": EXEC, "httpGet": HTTP_GET,
    "sleep": core.define("SleepAction", {"seconds": I64}, required=("seconds",)),
    "tcpSocket": TCP_SOCKET,
})
SE_LINUX = core.define("SELinuxOptions", {"level": S, "role": S, "type": S, "user": S})
SECCOMP = core.define("SeccompProfile", {"localhostProfile": S, "type": S}, required=("type",))
APPARMOR = core.define("AppArmorProfile", {"localhostProfile": S, "type": S}, required=("type",))
SECURITY_CONTEXT = core.define("SecurityContext", {
    "allowPrivilegeEscalation": B, "appArmorProfile": APPARMOR,
    "capabilities": core.define("Capabilities", {"add": ATOMIC_STRINGS, "drop": ATOMIC_STRINGS}),
    "privileged": B, "procMount": S, "readOnlyRootFilesystem": B, "runAsGroup": I64, "runAsNonRoot": B,
    "runAsUser": I64, "seLinuxOptions": SE_LINUX, "seccompProfile": SECCOMP,
}, desc="SecurityContext holds security configuration that will be applied to a container.")

CONTAINER_FIELDS: dict[str, FieldSpec] = {
    "args": ATOMIC_STRINGS,
    "command": Desc(ATOMIC_STRINGS, "Entrypoint array. Not executed within a shell."),
    "env": Arr(ENV_VAR, **_by("name")),
    "envFrom": Arr(ENV_FROM, list_type="atomic"),
    "image": Desc(S, "Container image name."),
    "imagePullPolicy": Desc(S, "Always, Never, IfNotPresent."),
    "lifecycle": core.define("Lifecycle", {"postStart": HANDLER, "preStop": HANDLER, "stopSignal": S}),
    "livenessProbe": PROBE,
    "name": Desc(S, "Name of the container specified as a DNS_LABEL."),
    "ports": Arr(core.define("ContainerPort", {
        "containerPort": I32, "hostIP": S, "hostPort": I32, "name": S, "protocol": S,
    }, required=("containerPort",), desc="ContainerPort represents a network port in a single container."),
        **_by("containerPort", "protocol")),
    "readinessProbe": PROBE,
    "resizePolicy": Arr(core.define("ContainerResizePolicy", {"resourceName": S, "restartPolicy": S},
                                    required=("resourceName", "restartPolicy")), list_type="atomic"),
    "resources": RESOURCE_REQUIREMENTS,
    "restartPolicy": S,
    "securityContext": SECURITY_CONTEXT,
    "startupProbe": PROBE,
    "stdin": B, "stdinOnce": B,
    "terminationMessagePath": S, "terminationMessagePolicy": S,
    "tty": B,
    "volumeDevices": Arr(core.define("VolumeDevice", {"devicePath": S, "name": S}, required=("name", "devicePath")),
                         **_by("devicePath")),
    "volumeMounts": Arr(core.define("VolumeMount", {
        "mountPath": S, "mountPropagation": S, "name": S, "readOnly": B, "recursiveReadOnly": S,
        "subPath": S, "subPathExpr": S,
    }, required=("name", "mountPath"), desc="VolumeMount describes a mounting of a Volume within a container."),
        **_by("mountPath")),
    "workingDir": S,
}
CONTAINER = core.define("Container", CONTAINER_FIELDS, required=("name",),
                        desc="A single application container that you want to run within a pod.")
EPHEMERAL_CONTAINER = core.define("EphemeralContainer", {**CONTAINER_FIELDS, "targetContainerName": S},
                                  required=("name",))

# --- scheduling --------------------------------------------------------------------------------
NODE_SELECTOR_REQUIREMENT = core.define("NodeSelectorRequirement", {
    "key": S, "operator": S, "values": ATOMIC_STRINGS}, required=("key", "operator"))
NODE_SELECTOR_TERM = core.define("NodeSelectorTerm", {
    "matchExpressions": Arr(NODE_SELECTOR_REQUIREMENT, list_type="atomic"),
    "matchFields": Arr(NODE_SELECTOR_REQUIREMENT, list_type="atomic"),
})
POD_AFFINITY_TERM = core.define("PodAffinityTerm", {
    "labelSelector": LABEL_SELECTOR, "matchLabelKeys": ATOMIC_STRINGS, "mismatchLabelKeys": ATOMIC_STRINGS,
    "namespaceSelector": LABEL_SELECTOR, "namespaces": ATOMIC_STRINGS, "topologyKey": S,
}, required=("topologyKey",))
WEIGHTED_TERM = core.define("WeightedPodAffinityTerm", {"podAffinityTerm": POD_AFFINITY_TERM, "weight": I32},
                            required=("weight", "podAffinityTerm"))
POD_AFFINITY_FIELDS: dict[str, FieldSpec] = {
    "preferredDuringSchedulingIgnoredDuringExecution": Arr(WEIGHTED_TERM, list_type="atomic"),
    "requiredDuringSchedulingIgnoredDuringExecution": Arr(POD_AFFINITY_TERM, list_type="atomic"),
}
AFFINITY = core.define("Affinity", {
    "nodeAffinity": core.define("NodeAffinity", {
        "preferredDuringSchedulingIgnoredDuringExecution": Arr(core.define("PreferredSchedulingTerm", {
            "preference": NODE_SELECTOR_TERM, "weight": I32}, required=("weight", "preference")), list_type="atomic"),
        "requiredDuringSchedulingIgnoredDuringExecution": core.define("NodeSelector", {
            "nodeSelectorTerms": Arr(NODE_SELECTOR_TERM, list_type="atomic")}, required=("nodeSelectorTerms",)),
    }),
    "podAffinity": core.define("PodAffinity", POD_AFFINITY_FIELDS),
    "podAntiAffinity": core.define("PodAntiAffinity", POD_AFFINITY_FIELDS),
}, desc="Affinity is a group of affinity scheduling rules.")
TOLERATION = core.define("Toleration", {
    "effect": S, "key": S, "operator": S, "tolerationSeconds": I64, "value": S,
}, desc="The pod this Toleration is attached to tolerates any taint that matches the triple <key,value,effect>.")

# --- the pod -----------------------------------------------------------------------------------
POD_SPEC = core.define("PodSpec", {
    "activeDeadlineSeconds": I64,
    "affinity": AFFINITY,
    "automountServiceAccountToken": B,
    "containers": Desc(Arr(CONTAINER, **_by("name")), "List of containers belonging to the pod."),
    "dnsConfig": core.define("PodDNSConfig", {
        "nameservers": ATOMIC_STRINGS,
        "options": Arr(core.define("PodDNSConfigOption", {"name": S, "value": S}), list_type="atomic"),
        "searches": ATOMIC_STRINGS,
    }),
    "dnsPolicy": S,
    "enableServiceLinks": B,
    "ephemeralContainers": Arr(EPHEMERAL_CONTAINER, **_by("name")),
    "hostAliases": Arr(core.define("HostAlias", {"hostnames": ATOMIC_STRINGS, "ip": S}, required=("ip",)),
                       **_by("ip")),
    "hostIPC": B, "hostNetwork": B, "hostPID": B, "hostUsers": B, "hostname": S,
    "imagePullSecrets": Arr(LOCAL_OBJECT_REFERENCE, **_by("name")),
    "initContainers": Arr(CONTAINER, **_by("name")),
    "nodeName": Desc(S, "NodeName indicates in which node this pod is scheduled."),
    "nodeSelector": Desc(SMAP, "A selector which must match a node's labels for the pod to be scheduled on that node."),
    "os": core.define("PodOS", {"name": S}, required=("name",)),
    "overhead": RESOURCES,
    "preemptionPolicy": S,
    "priority": I32,
    "priorityClassName": S,
    "readinessGates": Arr(core.define("PodReadinessGate", {"conditionType": S}, required=("conditionType",)),
                          list_type="atomic"),
    "resourceClaims": Arr(core.define("PodResourceClaim", {
        "name": S, "resourceClaimName": S, "resourceClaimTemplateName": S}, required=("name",)),
        merge_key="name", strategy="merge,retainKeys", list_type="map", map_keys=("name",)),
    "resources": RESOURCE_REQUIREMENTS,
    "restartPolicy": Desc(S, "Restart policy for all containers within the pod: Always, OnFailure, Never."),
    "runtimeClassName": S,
    "schedulerName": S,
    "schedulingGates": Arr(core.define("PodSchedulingGate", {"name": S}, required=("name",)), **_by("name")),
    "securityContext": core.define("PodSecurityContext", {
        "appArmorProfile": APPARMOR, "fsGroup": I64, "fsGroupChangePolicy": S, "runAsGroup": I64,
        "runAsNonRoot": B, "runAsUser": I64, "seLinuxChangePolicy": S, "seLinuxOptions": SE_LINUX,
        "seccompProfile": SECCOMP, "supplementalGroups": Arr(I64, list_type="atomic"),
        "supplementalGroupsPolicy": S,
        "sysctls": Arr(core.define("Sysctl", {"name": S, "value": S}, required=("name", "value")), list_type="atomic"),
    }),
    "serviceAccount": S,
    "serviceAccountName": S,
    "setHostnameAsFQDN": B,
    "shareProcessNamespace": B,
    "subdomain": S,
    "terminationGracePeriodSeconds": I64,
    "tolerations": Arr(TOLERATION, list_type="atomic"),
    "topologySpreadConstraints": Arr(core.define("TopologySpreadConstraint", {
        "labelSelector": LABEL_SELECTOR, "matchLabelKeys": ATOMIC_STRINGS, "maxSkew": I32, "minDomains": I32,
        "nodeAffinityPolicy": S, "nodeTaintsPolicy": S, "topologyKey": S, "whenUnsatisfiable": S,
    }, required=("maxSkew", "topologyKey", "whenUnsatisfiable")), **_by("topologyKey", "whenUnsatisfiable")),
    "volumes": Arr(VOLUME, merge_key="name", strategy="merge,retainKeys", list_type="map", map_keys=("name",)),
}, required=("containers",), desc="PodSpec is a description of a pod.")

STATE = core.define("ContainerState", {
    "running": core.define("ContainerStateRunning", {"startedAt": TIME}),
    "terminated": core.define("ContainerStateTerminated", {
        "containerID": S, "exitCode": I32, "finishedAt": TIME, "message": S, "reason": S, "signal": I32,
        "startedAt": TIME}, required=("exitCode",)),
    "waiting": core.define("ContainerStateWaiting", {"message": S, "reason": S}),
})
CONTAINER_STATUS = core.define("ContainerStatus", {
    "allocatedResources": MapOf(RESOURCES.values), "containerID": S, "image": S, "imageID": S,
    "lastState": STATE, "name": S, "ready": B, "resources": RESOURCE_REQUIREMENTS, "restartCount": I32,
    "started": B, "state": STATE,
}, required=("name", "ready", "restartCount", "image", "imageID"))
IP: dict[str, FieldSpec] = {"ip": S}
POD_STATUS = core.define("PodStatus", {
    "conditions": Arr(core.define("PodCondition", {
        "lastProbeTime": TIME, "lastTransitionTime": TIME, "message": S, "observedGeneration": I64,
        "reason": S, "status": S, "type": S}, required=("type", "status")), **_by("type")),
    "containerStatuses": Arr(CONTAINER_STATUS, list_type="atomic"),
    "ephemeralContainerStatuses": Arr(CONTAINER_STATUS, list_type="atomic"),
    "hostIP": S,
    "hostIPs": Arr(core.define("HostIP", IP, required=("ip",)), merge_key="ip", strategy="merge", list_type="atomic"),
    "initContainerStatuses": Arr(CONTAINER_STATUS, list_type="atomic"),
    "message": S, "nominatedNodeName": S, "observedGeneration": I64,
    "phase": Desc(S, "Pending, Running, Succeeded, Failed or Unknown."),
    "podIP": S,
    "podIPs": Arr(core.define("PodIP", IP, required=("ip",)), **_by("ip")),
    "qosClass": S, "reason": S, "resize": S,
    "startTime": TIME,
}, desc="PodStatus represents information about the status of a pod.")

core.define("Pod", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META, "spec": POD_SPEC, "status": POD_STATUS,
}, desc="Pod is a collection of containers that can run on a host.", gvk=("", "v1", "Pod"))
POD_TEMPLATE_SPEC = core.define("PodTemplateSpec", {"metadata": OBJECT_META, "spec": POD_SPEC},
                                desc="PodTemplateSpec describes the data a pod should have"
                                     " when created from a template.")
