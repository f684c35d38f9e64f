"""core/v1 definitions other than the Pod: Namespace, Node, Service, Endpoints, Event,
ConfigMap, Secret, Binding and the small reference types they share.

`core` is the definitions group the pod and volume modules add to.
"""

from __future__ import annotations

from .meta_v1 import CONDITION, INT_OR_STRING, MICRO_TIME, OBJECT_META, QUANTITY, TIME
from .types import BYTES, I32, I64, SMAP, Arr, B, Desc, FieldSpec, Group, MapOf, S

core = Group("io.k8s.api.core.v1")
V1 = ("", "v1")

OBJECT_REFERENCE = core.define("ObjectReference", {
    "apiVersion": S, "fieldPath": S, "kind": S, "name": S, "namespace": S,
    "resourceVersion": S, "uid": S,
}, desc="ObjectReference contains enough information to let you inspect or modify the referred object.")
LOCAL_OBJECT_REFERENCE = core.define("LocalObjectReference", {"name": S},
                                     desc="A reference to an object in the same namespace.")
RESOURCES = MapOf(QUANTITY)


def _typed(kind: str, props: dict[str, FieldSpec], *, desc: str, required: tuple[str, ...] = ()) -> None:
    """A top-level kind: TypeMeta + ObjectMeta + the given fields."""
    core.define(kind, {"apiVersion": S, "kind": S, "metadata": OBJECT_META, **props},
                required=required, desc=desc, gvk=(*V1, kind))


_typed("Namespace", {
    "spec": core.define("NamespaceSpec", {"finalizers": Arr(S, list_type="atomic")},
                        desc="NamespaceSpec describes the attributes on a Namespace."),
    "status": core.define("NamespaceStatus", {
        "conditions": Arr(core.define("NamespaceCondition", {
            "lastTransitionTime": TIME, "message": S, "reason": S, "status": S, "type": S,
        }, required=("type", "status")), merge_key="type", strategy="merge", list_type="map", map_keys=("type",)),
        "phase": S,
    }),
}, desc="Namespace provides a scope for Names.")

TAINT = core.define("Taint", {"effect": S, "key": S, "timeAdded": TIME, "value": S},
                    required=("key", "effect"),
                    desc="The node this Taint is attached to has the \"effect\" on any pod"
                         " that does not tolerate the Taint.")
_typed("Node", {
    "spec": core.define("NodeSpec", {
        "externalID": S, "podCIDR": S, "podCIDRs": Arr(S, strategy="merge", list_type="set"),
        "providerID": S, "taints": Arr(TAINT, list_type="atomic"),
        "unschedulable": Desc(B, "Unschedulable controls node schedulability of new pods."),
    }),
    "status": core.define("NodeStatus", {
        "addresses": Arr(core.define("NodeAddress", {"address": S, "type": S}, required=("type", "address")),
                         merge_key="type", strategy="merge", list_type="map", map_keys=("type",)),
        "allocatable": RESOURCES, "capacity": RESOURCES,
        "conditions": Arr(core.define("NodeCondition", {
            "lastHeartbeatTime": TIME, "lastTransitionTime": TIME, "message": S, "reason": S,
            "status": S, "type": S,
        }, required=("type", "status")), merge_key="type", strategy="merge", list_type="map", map_keys=("type",)),
        "daemonEndpoints": core.define("NodeDaemonEndpoints", {
            "kubeletEndpoint": core.define("DaemonEndpoint", {"Port": I32}, required=("Port",)),
        }),
        "images": Arr(core.define("ContainerImage", {"names": Arr(S, list_type="atomic"), "sizeBytes": I64}),
                      list_type="atomic"),
        "nodeInfo": core.define("NodeSystemInfo", {k: S for k in (
            "architecture", "bootID", "containerRuntimeVersion", "kernelVersion", "kubeProxyVersion",
            "kubeletVersion", "machineID", "operatingSystem", "osImage", "systemUUID")}),
        "phase": S,
        "volumesInUse": Arr(S, list_type="atomic"),
    }),
}, desc="Node is a worker node in Kubernetes.")

SERVICE_PORT = core.define("ServicePort", {
    "appProtocol": S, "name": S, "nodePort": I32, "port": I32, "protocol": S,
    "targetPort": Desc(INT_OR_STRING, "Number or name of the port to access on the pods targeted by the service."),
}, required=("port",), desc="ServicePort contains information on service's port.")
_typed("Service", {
    "spec": core.define("ServiceSpec", {
        "allocateLoadBalancerNodePorts": B, "clusterIP": S, "clusterIPs": Arr(S, list_type="atomic"),
        "externalIPs": Arr(S, list_type="atomic"), "externalName": S, "externalTrafficPolicy": S,
        "healthCheckNodePort": I32, "internalTrafficPolicy": S, "ipFamilies": Arr(S, list_type="atomic"),
        "ipFamilyPolicy": S, "loadBalancerClass": S, "loadBalancerIP": S,
        "loadBalancerSourceRanges": Arr(S, list_type="atomic"),
        "ports": Arr(SERVICE_PORT, merge_key="port", strategy="merge", list_type="map", map_keys=("port", "protocol")),
        "publishNotReadyAddresses": B,
        "selector": Desc(SMAP, "Route service traffic to pods with label keys and values matching this selector."),
        "sessionAffinity": S,
        "sessionAffinityConfig": core.define("SessionAffinityConfig", {
            "clientIP": core.define("ClientIPConfig", {"timeoutSeconds": I32})}),
        "trafficDistribution": S,
        "type": Desc(S, "ClusterIP, NodePort, LoadBalancer or ExternalName."),
    }),
    "status": core.define("ServiceStatus", {
        "conditions": Arr(CONDITION, merge_key="type", strategy="merge", list_type="map", map_keys=("type",)),
        "loadBalancer": core.define("LoadBalancerStatus", {
            "ingress": Arr(core.define("LoadBalancerIngress", {
                "hostname": S, "ip": S, "ipMode": S,
                "ports": Arr(core.define("PortStatus", {"error": S, "port": I32, "protocol": S},
                                         required=("port", "protocol")), list_type="atomic"),
            }), list_type="atomic"),
        }),
    }),
}, desc="Service is a named abstraction of software service (for example, mysql) consisting of local port "
        "(for example 3306) that the proxy listens on, and the selector that determines which pods will answer "
        "requests sent through the proxy.")

ENDPOINT_ADDRESS = core.define("EndpointAddress", {
    "hostname": S, "ip": S, "nodeName": S, "targetRef": OBJECT_REFERENCE,
}, required=("ip",), desc="EndpointAddress is a tuple that describes single IP address.")
_typed("Endpoints", {
    "subsets": Arr(core.define("EndpointSubset", {
        "addresses": Arr(ENDPOINT_ADDRESS, list_type="atomic"),
        "notReadyAddresses": Arr(ENDPOINT_ADDRESS, list_type="atomic"),
        "ports": Arr(core.define("EndpointPort", {"appProtocol": S, "name": S, "port": I32, "protocol": S},
                                 required=("port",)), list_type="atomic"),
    }), list_type="atomic"),
}, desc="Endpoints is a collection of endpoints that implement the actual service.")

_typed("Event", {
    "action": S, "count": I32, "eventTime": MICRO_TIME, "firstTimestamp": TIME,
    "involvedObject": OBJECT_REFERENCE, "lastTimestamp": TIME, "message": S, "reason": S,
    "related": OBJECT_REFERENCE, "reportingComponent": S, "reportingInstance": S,
    "series": core.define("EventSeries", {"count": I32, "lastObservedTime": MICRO_TIME}),
    "source": core.define("EventSource", {"component": S, "host": S}),
    "type": S,
}, required=("metadata", "involvedObject"), desc="Event is a report of an event somewhere in the cluster.")

_typed("ConfigMap", {
    "binaryData": MapOf(BYTES), "data": Desc(SMAP, "Data contains the configuration data."), "immutable": B,
}, desc="ConfigMap holds configuration data for pods to consume.")
_typed("Secret", {
    "data": Desc(MapOf(BYTES), "Data contains the secret data, base64 encoded."), "immutable": B,
    "stringData": SMAP, "type": S,
}, desc="Secret holds secret data of a certain type.")
_typed("Binding", {"target": OBJECT_REFERENCE}, required=("target",),
       desc="Binding ties one object to another; for example, a pod is bound to a node by a scheduler.")


