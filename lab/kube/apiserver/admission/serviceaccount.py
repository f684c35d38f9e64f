"""ServiceAccount admission (upstream `plugin/pkg/admission/serviceaccount`): on pod CREATE,
default the pod's ServiceAccount to `default`, refuse a pod whose ServiceAccount does not
exist, copy the account's imagePullSecrets, and, unless automounting is off, add the projected
`kube-api-access-<random>` volume (a bound token, `ca.crt`, `namespace`) and mount it at
/var/run/secrets/kubernetes.io/serviceaccount in every container. The kubelet fills it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from lab.kube.apiserver.admission.chain import AdmissionRequest, Operation, refuse
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.settings import Settings
from lab.kube.machinery import catalog, errors, meta, names
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

DEFAULT_SERVICE_ACCOUNT = "default"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
# 1 h + 7 s: the API server recognises this exact lifetime as "the kubelet's automounted token"
# (it may extend the JWT and warn on late use) while the kubelet still refreshes hourly
TOKEN_EXPIRATION_SECONDS = 3607
PROJECTED_DEFAULT_MODE = 0o644  # 420, set explicitly as upstream does (defaulting has already run)
# the controller creates `default` right after its namespace: look a few more times for it
DEFAULT_LOOKUP_ATTEMPTS = 10

# (namespace, name) -> the ServiceAccount, or None when it does not exist
ServiceAccountLookup = Callable[[str, str], Awaitable[Obj | None]]


def token_volume_source() -> Obj:
    """The projected source upstream's `TokenVolumeSource()` builds."""
    return {"defaultMode": PROJECTED_DEFAULT_MODE, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}




def should_automount(service_account: Obj | None, spec: Obj) -> bool:
    """The pod's preference wins, then the ServiceAccount's; true when neither says."""
    if spec.get("automountServiceAccountToken") is not None:
        return bool(spec["automountServiceAccountToken"])
    if service_account is not None and service_account.get("automountServiceAccountToken") is not None:
        return bool(service_account["automountServiceAccountToken"])
    return True


def mount_token(spec: dict[str, Any], generate: Callable[[str], str] = names.generate_name) -> None:
    """Add the token volume (unless a `kube-api-access-*` one exists) and mount it in every init
    and regular container that mounts nothing at the token path yet."""
    volumes = spec.get("volumes") or []
    existing = next((v["name"] for v in volumes
                     if isinstance(v, dict) and str(v.get("name", "")).startswith(VOLUME_PREFIX)), None)
    volume_name = existing or generate(VOLUME_PREFIX)
    needs_volume = False
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            mounts = container.setdefault("volumeMounts", [])
            if any(m.get("mountPath") == TOKEN_MOUNT_PATH for m in mounts):
                continue
            mounts.append({"name": volume_name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH})
            needs_volume = True
    if existing is None and needs_volume:
        spec["volumes"] = [*volumes, {"name": volume_name, "projected": token_volume_source()}]


def _mirror_pod_refusal(spec: Obj) -> str | None:
    """What a mirror pod (the API copy of a kubelet's static pod) may not reference."""
    if spec.get("serviceAccountName") or spec.get("serviceAccount"):
        return "a mirror pod may not reference service accounts"
    for volume in spec.get("volumes") or []:
        sources = (volume.get("projected") or {}).get("sources") or []
        if volume.get("secret") or any(s.get("secret") for s in sources):
            return "a mirror pod may not reference secrets"
        if any(s.get("serviceAccountToken") for s in sources):
            return "a mirror pod may not use ServiceAccountToken volume projections"
    return None


class ServiceAccountAdmission:
    name = "ServiceAccount"

    def __init__(self, lookup: ServiceAccountLookup | None,
                 retry_interval: Callable[[], float] = lambda: random.uniform(0.1, 0.2)) -> None:
        """`lookup` is None when this server has no ServiceAccount resource: nothing to check."""
        self.lookup, self.retry_interval = lookup, retry_interval

    async def admit(self, request: AdmissionRequest) -> None:
        if (request.resource != catalog.PODS or request.operation != Operation.CREATE or request.subresource
                or request.obj is None):
            return
        pod = request.obj
        spec = pod.setdefault("spec", {})
        if MIRROR_POD_ANNOTATION in meta.annotations(pod):
            # the kubelet owns a mirror pod's spec: changing it would make the kubelet delete it
            if (why := _mirror_pod_refusal(spec)) is not None:
                raise refuse(request, why)
            return
        sa_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
        spec["serviceAccountName"] = spec["serviceAccount"] = sa_name
        service_account = await self._service_account(request, request.namespace, sa_name)
        if should_automount(service_account, spec):
            mount_token(spec)
        if service_account is not None and not spec.get("imagePullSecrets"):
            pull = [{"name": s["name"]} for s in service_account.get("imagePullSecrets") or [] if s.get("name")]
            if pull:
                spec["imagePullSecrets"] = pull

    async def _service_account(self, request: AdmissionRequest, namespace: str, name: str) -> Obj | None:
        if self.lookup is None:
            return None
        attempts = DEFAULT_LOOKUP_ATTEMPTS if name == DEFAULT_SERVICE_ACCOUNT else 1
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.retry_interval())
            try:
                found = await self.lookup(namespace, name)
            except errors.APIError as exc:
                raise refuse(request, f"error looking up service account {namespace}/{name}: {exc}") from exc
            if found is not None:
                return found
        raise refuse(request, f'error looking up service account {namespace}/{name}: '
                              f'serviceaccount "{name}" not found')


def registry_lookup(registry: Registry) -> ServiceAccountLookup:
    async def lookup(namespace: str, name: str) -> Obj | None:
        try:
            return await registry.get(namespace, name)
        except errors.NotFound:
            return None
    return lookup


def plugin(settings: Settings, registries: Mapping[Resource, Registry]) -> ServiceAccountAdmission:
    """The `--enable-admission-plugins` factory. Without a `serviceaccounts` resource in this
    server the existence check (and imagePullSecrets) is skipped; the volume is still added."""
    resource = catalog.lookup("", "v1", "serviceaccounts")
    registry = registries.get(resource) if resource is not None else None
    return ServiceAccountAdmission(registry_lookup(registry) if registry is not None else None)
