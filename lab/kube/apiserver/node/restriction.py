"""NodeRestriction admission (upstream `plugin/pkg/admission/noderestriction/admission.go`):
what a kubelet's writes may change, after the Node authorizer let them through. A node
writes only its own Node (not its taints, not protected labels), creates only mirror pods,
updates the status of and deletes only pods bound to it, evicts only its own pods, holds
only its own lease, mints tokens only for pods on it, and asks for kubelet certificates only
in its own name. Other users pass untouched.

Refusals are upstream's `admission.NewForbidden`: `<resource[.group]> "<name>" is forbidden: <why>`.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from lab.kube.apiserver.admission import AdmissionRequest, Operation, refuse
from lab.kube.apiserver.node import labels, references
from lab.kube.apiserver.node.authorizer import NODE_LEASE_NAMESPACE
from lab.kube.apiserver.node.graph import MIRROR_POD_ANNOTATION
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.settings import Settings
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.user import NODE_PREFIX, NODES, node_name

KUBELET_SIGNERS = ("kubernetes.io/kubelet-serving", "kubernetes.io/kube-apiserver-client-kubelet")




class NodeRestriction:
    name = "NodeRestriction"

    def __init__(self, registries: Mapping[Resource, Registry]) -> None:
        self.registries = registries

    async def admit(self, request: AdmissionRequest) -> None:
        user = request.user
        if not user.name.startswith(NODE_PREFIX) or NODES not in user.groups:
            return  # only nodes are restricted here
        node = node_name(user)
        if node is None:
            raise refuse(request, f'could not determine node from user "{user.name}"')
        match request.resource.group, request.resource.plural:
            case "", "pods":
                await self._pod(node, request)
            case "", "nodes":
                self._node(node, request)
            case "", "persistentvolumeclaims":
                self._pvc(node, request)
            case "", "serviceaccounts":
                await self._token(node, request)
            case "coordination.k8s.io", "leases":
                self._lease(node, request)
            case "storage.k8s.io", "csinodes":
                self._csinode(node, request)
            case "certificates.k8s.io", "certificatesigningrequests":
                self._csr(node, request)

    # --- pods ----------------------------------------------------------------------------------
    async def _pod(self, node: str, request: AdmissionRequest) -> None:
        match request.subresource:
            case "":
                if request.operation is Operation.CREATE:
                    await self._pod_create(node, request)
                elif request.operation is Operation.DELETE:
                    if spec_of(request.old or {}).get("nodeName") != node:
                        raise refuse(request, f'node "{node}" can only delete pods with spec.nodeName set to itself')
                else:
                    raise refuse(request, f'unexpected operation "{request.operation.value}", node "{node}" '
                                          "can only create and delete mirror pods")
            case "status":
                self._pod_status(node, request)
            case "eviction":
                await self._pod_eviction(node, request)
            case other:
                raise refuse(request, f'unexpected pod subresource "{other}", only \'status\' and '
                                      "'eviction' are allowed")

    async def _pod_create(self, node: str, request: AdmissionRequest) -> None:
        pod = request.obj or {}
        if MIRROR_POD_ANNOTATION not in meta.annotations(pod):
            raise refuse(request, f'pod does not have "{MIRROR_POD_ANNOTATION}" annotation, node "{node}" '
                                  "can only create mirror pods")
        if spec_of(pod).get("nodeName") != node:
            raise refuse(request, f'node "{node}" can only create pods with spec.nodeName set to itself')
        owners = meta.owner_references(pod)
        if len(owners) > 1:
            raise refuse(request, f'node "{node}" can only create pods with a single owner reference set to itself')
        if not owners:
            raise refuse(request, f'node "{node}" can only create pods with an owner reference set to itself')
        owner = owners[0]
        if (owner.get("apiVersion"), owner.get("kind"), owner.get("name")) != ("v1", "Node", node):
            raise refuse(request, f'node "{node}" can only create pods with an owner reference set to itself')
        if owner.get("controller") is not True:
            raise refuse(request, f'node "{node}" can only create pods with a controller owner reference '
                                  "set to itself")
        if owner.get("blockOwnerDeletion") is True:
            raise refuse(request, f'node "{node}" must not set blockOwnerDeletion on an owner reference')
        own = await self.registries[catalog.NODES].get(None, node)  # NotFound: as upstream, a 404
        if owner.get("uid") != meta.uid(own):
            raise refuse(request, f"node {node} UID mismatch: expected {owner.get('uid', '')} got {meta.uid(own)}")
        if spec_of(pod).get("serviceAccountName"):
            raise refuse(request, f'node "{node}" can not create pods that reference a service account')
        for what, found in (("secrets", references.secret_names(pod)),
                            ("configmaps", references.configmap_names(pod)),
                            ("clustertrustbundles", references.references_cluster_trust_bundles(pod))):
            if found:
                raise refuse(request, f'node "{node}" can not create pods that reference {what}')
        if any("persistentVolumeClaim" in v for v in spec_of(pod).get("volumes") or [] if isinstance(v, dict)):
            raise refuse(request, f'node "{node}" can not create pods that reference persistentvolumeclaims')

    def _pod_status(self, node: str, request: AdmissionRequest) -> None:
        if request.operation is not Operation.UPDATE:
            raise refuse(request, f'unexpected operation "{request.operation.value}"')
        old, new = request.old or {}, request.obj or {}
        if spec_of(old).get("nodeName") != node:
            raise refuse(request, f'node "{node}" can only update pod status for pods with spec.nodeName '
                                  "set to itself")
        if meta.labels(old) != meta.labels(new):
            raise refuse(request, f'node "{node}" cannot update labels through pod status')
        if _claim_statuses(old) != _claim_statuses(new):
            raise refuse(request, f'node "{node}" cannot update resource claim statues')

    async def _pod_eviction(self, node: str, request: AdmissionRequest) -> None:
        if request.operation is not Operation.CREATE:
            raise refuse(request, f"unexpected operation {request.operation.value}")
        pod_name = request.name or meta.name(request.obj or {})
        if not pod_name:
            raise refuse(request, "could not determine pod from request data")
        pod = await self.registries[catalog.PODS].get(request.namespace, pod_name)
        if spec_of(pod).get("nodeName") != node:
            raise refuse(request, f"node {node} can only evict pods with spec.nodeName set to itself")

    # --- nodes ---------------------------------------------------------------------------------
    def _node(self, node: str, request: AdmissionRequest) -> None:
        if request.name != node:
            raise refuse(request, f'node "{node}" is not allowed to modify node "{request.name}"')
        new = request.obj or {}
        if request.operation is Operation.CREATE:
            if spec_of(new).get("configSource") is not None:
                raise refuse(request, f'node "{node}" is not allowed to create pods with a non-nil configSource')
            bad = labels.forbidden(labels.modified(meta.labels(new), {}))
            if bad:
                raise refuse(request, f'node "{node}" is not allowed to set the following labels: {", ".join(bad)}')
        elif request.operation is Operation.UPDATE:
            old = request.old or {}
            source = spec_of(new).get("configSource")
            if source is not None and source != spec_of(old).get("configSource"):
                raise refuse(request, f'node "{node}" is not allowed to update configSource to a new '
                                      "non-nil configSource")
            if (spec_of(new).get("taints") or []) != (spec_of(old).get("taints") or []):
                raise refuse(request, f'node "{node}" is not allowed to modify taints')
            bad = labels.forbidden(labels.modified(meta.labels(new), meta.labels(old)))
            if bad:
                raise refuse(request, f"is not allowed to modify labels: {', '.join(bad)}")

    # --- volumes, tokens, leases ---------------------------------------------------------------
    def _pvc(self, node: str, request: AdmissionRequest) -> None:
        if request.subresource != "status":
            raise refuse(request, "may only update PVC status")
        if request.operation is not Operation.UPDATE:
            raise refuse(request, f'unexpected operation "{request.operation.value}"')
        old, new = _pvc_without_status_fields(request.old or {}), _pvc_without_status_fields(request.obj or {})
        if old != new:
            changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            raise refuse(request, f'node "{node}" is not allowed to update fields other than status.quantity '
                                  f"and status.conditions: {', '.join(changed)}")

    async def _token(self, node: str, request: AdmissionRequest) -> None:
        if request.operation is not Operation.CREATE or request.subresource != "token":
            return
        ref = spec_of(request.obj or {}).get("boundObjectRef")
        if (not isinstance(ref, dict) or ref.get("apiVersion") != "v1" or ref.get("kind") != "Pod"
                or not ref.get("name")):
            raise refuse(request, "node requested token not bound to a pod")
        if not ref.get("uid"):
            raise refuse(request, "node requested token with a pod binding without a uid")
        pod = await self.registries[catalog.PODS].get(request.namespace, str(ref["name"]))
        if ref["uid"] != meta.uid(pod):
            raise refuse(request, f"the UID in the bound object reference ({ref['uid']}) does not match the UID "
                                  "in record. The object might have been deleted and then recreated")
        if spec_of(pod).get("nodeName") != node:
            raise refuse(request, "node requested token bound to a pod scheduled on a different node")

    def _lease(self, node: str, request: AdmissionRequest) -> None:
        if request.namespace != NODE_LEASE_NAMESPACE:
            raise refuse(request, f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace')
        if request.name != node:  # on create, the name the body gives
            raise refuse(request, "can only access node lease with the same name as the requesting node")

    def _csinode(self, node: str, request: AdmissionRequest) -> None:
        if request.name != node:
            raise refuse(request, "can only access CSINode with the same name as the requesting node")

    def _csr(self, node: str, request: AdmissionRequest) -> None:
        """A node asks for kubelet certificates only in its own name (the kubelet signers)."""
        if request.operation is not Operation.CREATE:
            return
        spec = spec_of(request.obj or {})
        if spec.get("signerName") not in KUBELET_SIGNERS:
            return
        try:
            csr = x509.load_pem_x509_csr(base64.b64decode(str(spec.get("request") or ""), validate=True))
        except ValueError as exc:  # bad base64 or PEM
            raise refuse(request, f"unable to parse csr: {exc}") from exc
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != f"{NODE_PREFIX}{node}":
            raise refuse(request, f"can only create a node CSR with CN={NODE_PREFIX}{node}")


def _claim_statuses(pod: Obj) -> list[tuple[Any, Any]]:
    return [(s.get("name"), s.get("resourceClaimName"))
            for s in status_of(pod).get("resourceClaimStatuses") or [] if isinstance(s, dict)]


def _pvc_without_status_fields(pvc: Obj) -> dict[str, Any]:
    """The claim minus what a kubelet may change: capacity, conditions and the allocated
    resources of volume expansion (RecoverVolumeExpansionFailure), and the bookkeeping."""
    out = copy.deepcopy(pvc)
    md = out.setdefault("metadata", {})
    md.pop("resourceVersion", None)
    md.pop("managedFields", None)
    status = out.get("status")
    if isinstance(status, dict):
        for key in ("capacity", "conditions", "allocatedResources", "allocatedResourceStatuses"):
            status.pop(key, None)
    return out


def plugin(settings: Settings, registries: Mapping[Resource, Registry]) -> NodeRestriction:
    """The `--enable-admission-plugins` factory."""
    return NodeRestriction(registries)
