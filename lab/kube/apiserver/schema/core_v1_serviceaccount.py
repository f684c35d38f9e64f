"""core/v1 ServiceAccount, and authentication.k8s.io/v1 TokenRequest: the body of its
`token` subresource. `authentication` is the definitions group the registry merges in."""

from __future__ import annotations

from .core_v1 import LOCAL_OBJECT_REFERENCE, OBJECT_REFERENCE, V1, core
from .meta_v1 import OBJECT_META, TIME
from .types import I64, Arr, B, Desc, Group, S

core.define("ServiceAccount", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "automountServiceAccountToken": Desc(B, "AutomountServiceAccountToken indicates whether pods running as "
                                            "this service account should have an API token automatically "
                                            "mounted."),
    "imagePullSecrets": Arr(LOCAL_OBJECT_REFERENCE, list_type="atomic"),
    "secrets": Desc(Arr(OBJECT_REFERENCE, merge_key="name", strategy="merge"),
                    "Secrets is a list of the secrets in the same namespace that pods running using this "
                    "ServiceAccount are allowed to use."),
}, desc="ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral systems, "
        "for an identity * a principal that can be authenticated and authorized * a set of secrets",
    gvk=(*V1, "ServiceAccount"))

authentication = Group("io.k8s.api.authentication.v1")

authentication.define("TokenRequest", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": authentication.define("TokenRequestSpec", {
        "audiences": Desc(Arr(S, list_type="atomic"), "Audiences are the intendend audiences of the token."),
        "boundObjectRef": authentication.define("BoundObjectReference", {
            "apiVersion": S, "kind": Desc(S, "Kind of the referent. Valid kinds are 'Pod' and 'Secret'."),
            "name": S, "uid": S,
        }, desc="BoundObjectReference is a reference to an object that a token is bound to."),
        "expirationSeconds": Desc(I64, "ExpirationSeconds is the requested duration of validity of the "
                                       "request."),
    }, required=("audiences",), desc="TokenRequestSpec contains client provided parameters of a token request."),
    "status": authentication.define("TokenRequestStatus", {"expirationTimestamp": TIME, "token": S},
                                    required=("token", "expirationTimestamp"),
                                    desc="TokenRequestStatus is the result of a token request."),
}, required=("spec",), desc="TokenRequest requests a token for a given service account.",
    gvk=("authentication.k8s.io", "v1", "TokenRequest"))
