"""networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy: stored and validated, so the
manifests users copy from the docs apply (no controller acts on them in kubelab yet)."""

from __future__ import annotations

from .core_v1 import core
from .meta_v1 import INT_OR_STRING, LABEL_SELECTOR, OBJECT_META
from .types import I32, Arr, Desc, Group, Ref, S

networking = Group("io.k8s.api.networking.v1")

TYPED_LOCAL_REF = core.define("TypedLocalObjectReference", {"apiGroup": S, "kind": S, "name": S},
                              required=("kind", "name"))
_BACKEND = networking.define("IngressBackend", {
    "resource": TYPED_LOCAL_REF,
    "service": networking.define("IngressServiceBackend", {
        "name": S, "port": networking.define("ServiceBackendPort", {"name": S, "number": I32}),
    }, required=("name",)),
})
_PORT_STATUS = Arr(Ref("io.k8s.api.core.v1.PortStatus"), list_type="atomic")  # the Service status's

networking.define("Ingress", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": networking.define("IngressSpec", {
        "defaultBackend": _BACKEND,
        "ingressClassName": Desc(S, "The name of an IngressClass cluster resource."),
        "rules": Arr(networking.define("IngressRule", {
            "host": S,
            "http": networking.define("HTTPIngressRuleValue", {
                "paths": Arr(networking.define("HTTPIngressPath", {
                    "backend": _BACKEND, "path": S, "pathType": S,
                }, required=("pathType", "backend")), list_type="atomic"),
            }, required=("paths",)),
        }), list_type="atomic"),
        "tls": Arr(networking.define("IngressTLS", {"hosts": Arr(S, list_type="atomic"), "secretName": S}),
                   list_type="atomic"),
    }),
    "status": networking.define("IngressStatus", {
        "loadBalancer": networking.define("IngressLoadBalancerStatus", {
            "ingress": Arr(networking.define("IngressLoadBalancerIngress", {
                "hostname": S, "ip": S, "ports": _PORT_STATUS}), list_type="atomic"),
        }),
    }),
}, desc="Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a "
        "backend.", gvk=("networking.k8s.io", "v1", "Ingress"))

networking.define("IngressClass", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": networking.define("IngressClassSpec", {
        "controller": S,
        "parameters": networking.define("IngressClassParametersReference", {
            "apiGroup": S, "kind": S, "name": S, "namespace": S, "scope": S}, required=("kind", "name")),
    }),
}, desc="IngressClass represents the class of the Ingress, referenced by the Ingress Spec.",
    gvk=("networking.k8s.io", "v1", "IngressClass"))

_PEER = networking.define("NetworkPolicyPeer", {
    "ipBlock": networking.define("IPBlock", {"cidr": S, "except": Arr(S, list_type="atomic")},
                                 required=("cidr",)),
    "namespaceSelector": LABEL_SELECTOR, "podSelector": LABEL_SELECTOR,
})
_PORTS = Arr(networking.define("NetworkPolicyPort", {"endPort": I32, "port": INT_OR_STRING, "protocol": S}),
             list_type="atomic")

networking.define("NetworkPolicy", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": networking.define("NetworkPolicySpec", {
        "egress": Arr(networking.define("NetworkPolicyEgressRule", {
            "ports": _PORTS, "to": Arr(_PEER, list_type="atomic")}), list_type="atomic"),
        "ingress": Arr(networking.define("NetworkPolicyIngressRule", {
            "from": Arr(_PEER, list_type="atomic"), "ports": _PORTS}), list_type="atomic"),
        "podSelector": LABEL_SELECTOR,
        "policyTypes": Arr(S, list_type="atomic"),
    }),
}, desc="NetworkPolicy describes what network traffic is allowed for a set of Pods",
    gvk=("networking.k8s.io", "v1", "NetworkPolicy"))
