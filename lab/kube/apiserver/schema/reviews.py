"""authentication.k8s.io and authorization.k8s.io: the review kinds (create-only, never stored)."""

from __future__ import annotations

from .meta_v1 import OBJECT_META
from .types import SS, Arr, B, Group, MapOf, S

authn = Group("io.k8s.api.authentication.v1")
authn_beta = Group("io.k8s.api.authentication.v1beta1")
authz = Group("io.k8s.api.authorization.v1")

USER_INFO = authn.define("UserInfo", {"extra": MapOf(SS), "groups": Arr(S, list_type="atomic"),
                                      "uid": S, "username": S},
                         desc="UserInfo holds the information about the user needed to implement the "
                              "user.Info interface.")
authn.define("TokenReview", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": authn.define("TokenReviewSpec", {"audiences": Arr(S, list_type="atomic"), "token": S}),
    "status": authn.define("TokenReviewStatus", {"audiences": Arr(S, list_type="atomic"),
                                                 "authenticated": B, "error": S, "user": USER_INFO}),
}, required=("spec",), desc="TokenReview attempts to authenticate a token to a known user.",
    gvk=("authentication.k8s.io", "v1", "TokenReview"))
authn.define("SelfSubjectReview", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "status": authn.define("SelfSubjectReviewStatus", {"userInfo": USER_INFO}),
}, desc="SelfSubjectReview contains the user information that the kube-apiserver has about the user "
        "making this request.", gvk=("authentication.k8s.io", "v1", "SelfSubjectReview"))
authn_beta.define("SelfSubjectReview", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "status": authn_beta.define("SelfSubjectReviewStatus", {"userInfo": USER_INFO}),
}, desc="SelfSubjectReview contains the user information that the kube-apiserver has about the user "
        "making this request.", gvk=("authentication.k8s.io", "v1beta1", "SelfSubjectReview"))

RESOURCE_ATTRIBUTES = authz.define("ResourceAttributes", {
    "group": S, "name": S, "namespace": S, "resource": S, "subresource": S, "verb": S, "version": S,
}, desc="ResourceAttributes includes the authorization attributes available for resource requests to "
        "the Authorizer interface")
NON_RESOURCE_ATTRIBUTES = authz.define("NonResourceAttributes", {"path": S, "verb": S},
                                       desc="NonResourceAttributes includes the authorization attributes "
                                            "available for non-resource requests to the Authorizer "
                                            "interface")
ACCESS_STATUS = authz.define("SubjectAccessReviewStatus", {
    "allowed": B, "denied": B, "evaluationError": S, "reason": S,
}, required=("allowed",), desc="SubjectAccessReviewStatus")
SAR_SPEC = authz.define("SubjectAccessReviewSpec", {
    "extra": MapOf(SS), "groups": Arr(S, list_type="atomic"),
    "nonResourceAttributes": NON_RESOURCE_ATTRIBUTES, "resourceAttributes": RESOURCE_ATTRIBUTES,
    "uid": S, "user": S,
}, desc="SubjectAccessReviewSpec is a description of the access request.")
for _kind, _spec in (("SubjectAccessReview", SAR_SPEC), ("LocalSubjectAccessReview", SAR_SPEC)):
    authz.define(_kind, {"apiVersion": S, "kind": S, "metadata": OBJECT_META, "spec": _spec,
                         "status": ACCESS_STATUS},
                 required=("spec",), desc=f"{_kind} checks whether or not a user or group can perform "
                                          "an action.", gvk=("authorization.k8s.io", "v1", _kind))
authz.define("SelfSubjectAccessReview", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": authz.define("SelfSubjectAccessReviewSpec", {
        "nonResourceAttributes": NON_RESOURCE_ATTRIBUTES, "resourceAttributes": RESOURCE_ATTRIBUTES,
    }, desc="SelfSubjectAccessReviewSpec is a description of the access request."),
    "status": ACCESS_STATUS,
}, required=("spec",), desc="SelfSubjectAccessReview checks whether or the current user can perform an "
                            "action.", gvk=("authorization.k8s.io", "v1", "SelfSubjectAccessReview"))
authz.define("SelfSubjectRulesReview", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": authz.define("SelfSubjectRulesReviewSpec", {"namespace": S}),
    "status": authz.define("SubjectRulesReviewStatus", {
        "evaluationError": S, "incomplete": B,
        "nonResourceRules": Arr(authz.define("NonResourceRule", {
            "nonResourceURLs": Arr(S, list_type="atomic"), "verbs": Arr(S, list_type="atomic"),
        }, required=("verbs",)), list_type="atomic"),
        "resourceRules": Arr(authz.define("ResourceRule", {
            "apiGroups": Arr(S, list_type="atomic"), "resourceNames": Arr(S, list_type="atomic"),
            "resources": Arr(S, list_type="atomic"), "verbs": Arr(S, list_type="atomic"),
        }, required=("verbs",)), list_type="atomic"),
    }, required=("resourceRules", "nonResourceRules", "incomplete")),
}, required=("spec",), desc="SelfSubjectRulesReview enumerates the set of actions the current user can "
                            "perform within a namespace.",
    gvk=("authorization.k8s.io", "v1", "SelfSubjectRulesReview"))


