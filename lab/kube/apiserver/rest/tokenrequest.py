"""`POST .../serviceaccounts/<name>/token`: TokenRequest (authentication.k8s.io/v1), as upstream
`pkg/registry/core/serviceaccount/storage/token.go`. Nothing is stored: the answer is the
request, defaulted, with a freshly signed token in its status."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lab.kube.apiserver.admission import Operation
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.serviceaccount import TokenConfig, jws
from lab.kube.apiserver.serviceaccount import claims as tc
from lab.kube.apiserver.strategies import validation as v
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.errors import BadRequest, Cause, Invalid
from lab.kube.machinery.objects import Obj

API_VERSION = "authentication.k8s.io/v1"
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 10 * 60
MAX_EXPIRATION_SECONDS = 1 << 32


def _invalid(name: str, causes: list[Cause]) -> Invalid:
    parts = [f"{c.field}: {c.message}" for c in causes]
    body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return Invalid(f'TokenRequest.authentication.k8s.io "{name}" is invalid: {body}', name=name,
                   kind="TokenRequest", group="authentication.k8s.io", causes=causes)


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TokenRequests:
    """Issues tokens for the ServiceAccounts in `registries` with the server's token config."""

    def __init__(self, config: TokenConfig, registries: Mapping[Resource, Registry]) -> None:
        self.config = config
        self.registries = registries

    async def create(self, namespace: str, name: str, body: Any) -> tuple[Obj, list[str]]:
        """The answered TokenRequest and the warnings to send (a shortened expiry)."""
        signing_key = self.config.signing_key
        if signing_key is None:  # upstream only installs the subresource with a signing key
            raise errors.NotFound("the server could not find the requested resource")
        req = self._decode(body)
        md = req["metadata"]
        if md.get("name") and md["name"] != name:
            raise _invalid(name, [v.invalid("metadata.name", md["name"],
                                            "must match the service account name if specified")])
        if md.get("namespace") and md["namespace"] != namespace:
            raise _invalid(name, [v.invalid("metadata.namespace", md["namespace"],
                                            "must match the service account namespace if specified")])
        sa = await self.registries[catalog.SERVICEACCOUNTS].get(namespace, name)
        spec = req["spec"]
        if not spec.get("audiences"):
            spec["audiences"] = list(self.config.api_audiences)
        now = time.time()
        md.update(name=name, namespace=namespace, creationTimestamp=_timestamp(now))
        req.pop("status", None)
        seconds = spec["expirationSeconds"]
        if seconds < MIN_EXPIRATION_SECONDS:
            raise _invalid("", [v.invalid("spec.expirationSeconds", seconds,
                                          "may not specify a duration less than 10 minutes")])
        if seconds > MAX_EXPIRATION_SECONDS:
            raise _invalid("", [v.invalid("spec.expirationSeconds", seconds,
                                          "may not specify a duration larger than 2^32 seconds")])
        accounts = self.registries[catalog.SERVICEACCOUNTS]
        # validating admission sees the request as a create of serviceaccounts/token (NodeRestriction
        # limits a kubelet to tokens for its own pods here)
        await accounts.ctx.admission.admit(Operation.CREATE, catalog.SERVICEACCOUNTS, namespace, name,
                                           "token", copy.deepcopy(req), None)
        pod, secret, node = await self._bound(namespace, name, spec.get("boundObjectRef"))
        warnings = []
        cap = self.config.max_expiration_seconds
        if cap > 0 and seconds > cap:
            warnings.append(f"requested expiration of {seconds} seconds shortened to {cap} seconds")
            seconds = spec["expirationSeconds"] = cap
        lifetime, warn_after = seconds, 0
        if (self.config.extend_expiration and pod is not None
                and seconds == tc.WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS
                and set(spec["audiences"]) <= set(self.config.api_audiences)):
            # projected tokens of old clients live a year; the kubelet still refreshes on 3607 s
            lifetime, warn_after = tc.EXPIRATION_EXTENSION_SECONDS, seconds
        claim_set = tc.build(
            issuer=self.config.issuer, audiences=spec["audiences"], namespace=namespace,
            service_account=tc.Ref(meta.name(sa), meta.uid(sa)), now=int(now),
            expiration_seconds=lifetime, pod=pod, secret=secret, node=node,
            warn_after_seconds=warn_after)
        req["status"] = {"token": jws.sign(claim_set, signing_key),
                         "expirationTimestamp": _timestamp(int(now) + seconds)}
        return req, warnings

    @staticmethod
    def _decode(body: Any) -> Obj:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise BadRequest("the body of the request must be a TokenRequest object")
        md, spec = body.get("metadata") or {}, body.get("spec") or {}
        if not isinstance(md, dict) or not isinstance(spec, dict):
            raise BadRequest("the body of the request must be a TokenRequest object")
        audiences = spec.get("audiences")
        if audiences is not None and (not isinstance(audiences, list)
                                      or not all(isinstance(a, str) for a in audiences)):
            raise BadRequest("json: cannot unmarshal into Go struct field TokenRequestSpec.spec.audiences "
                             "of type []string")
        seconds = spec.get("expirationSeconds")
        if seconds is None:
            seconds = DEFAULT_EXPIRATION_SECONDS  # v1 defaulting
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise BadRequest("json: cannot unmarshal into Go struct field TokenRequestSpec.spec."
                             "expirationSeconds of type int64")
        ref = spec.get("boundObjectRef")
        if ref is not None and not isinstance(ref, dict):
            raise BadRequest("json: cannot unmarshal into Go struct field TokenRequestSpec.spec."
                             "boundObjectRef of type v1.BoundObjectReference")
        out_spec: Obj = {"audiences": list(audiences or []), "expirationSeconds": seconds}
        if ref:
            out_spec["boundObjectRef"] = {k: ref[k] for k in ("kind", "apiVersion", "name", "uid")
                                          if ref.get(k)}
        return {"kind": "TokenRequest", "apiVersion": API_VERSION, "metadata": dict(md), "spec": out_spec}

    async def _bound(self, namespace: str, sa_name: str, ref: Obj | None
                     ) -> tuple[tc.Ref | None, tc.Ref | None, tc.Ref | None]:
        """(pod, secret, node) the token is bound to; at most pod+node or secret."""
        if not ref:
            return None, None, None
        kind, api_version, name = ref.get("kind", ""), ref.get("apiVersion", ""), ref.get("name", "")
        group, _, version = api_version.rpartition("/")
        pod = secret = node = None
        if group == "" and kind == "Pod":
            obj = await self.registries[catalog.PODS].get(namespace, name)
            if (obj.get("spec") or {}).get("serviceAccountName") != sa_name:
                raise BadRequest(f'cannot bind token for serviceaccount "{sa_name}" to pod running with '
                                 'different serviceaccount name.')
            pod = tc.Ref(meta.name(obj), meta.uid(obj))
            node_name = (obj.get("spec") or {}).get("nodeName")
            if node_name:
                try:
                    node_obj = await self.registries[catalog.NODES].get(None, node_name)
                    node = tc.Ref(node_name, meta.uid(node_obj))
                except errors.NotFound:  # still name the node, as upstream does
                    node = tc.Ref(node_name)
            uid = meta.uid(obj)
        elif group == "" and kind == "Secret":
            obj = await self.registries[catalog.SECRETS].get(namespace, name)
            secret = tc.Ref(meta.name(obj), meta.uid(obj))
            uid = meta.uid(obj)
        elif group == "" and kind == "Node":
            raise BadRequest('cannot bind token to a Node object as the "ServiceAccountTokenNodeBinding" '
                             "feature-gate is disabled")
        else:
            raise BadRequest(f"cannot bind token to object of type {group}/{version}, Kind={kind}")
        if ref.get("uid") and ref["uid"] != uid:
            raise errors.Conflict(
                f'Operation cannot be fulfilled on {kind} "{name}": the UID in the bound object reference '
                f'({ref["uid"]}) does not match the UID in record. The object might have been deleted '
                "and then recreated", name=name, kind=kind)
        return pod, secret, node
