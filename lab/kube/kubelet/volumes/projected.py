"""The files a `projected` volume holds (upstream `pkg/volume/projected/projected.go` collectData):
a bound ServiceAccount token, ConfigMap and Secret keys, and downward API fields of the pod.

Pure but for its two lookups (the token manager and the ConfigMap/Secret getter). Each file's
mode is the item's own `mode`, else the volume's `defaultMode` (0644).
"""

from __future__ import annotations

import base64
import json
import logging
import re

from lab.kube.kubelet.token_manager import TokenKey, TokenManager, TokenUnavailable
from lab.kube.kubelet.volumes.atomic_writer import FileProjection
from lab.kube.kubelet.volumes.objects import ObjectGetter, ObjectUnavailable, get_config_object
from lab.kube.machinery import errors, meta
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)
DEFAULT_MODE = 0o644  # v1 ProjectedVolumeSourceDefaultMode
DEFAULT_TOKEN_EXPIRATION = 3600  # v1 defaulting of a serviceAccountToken projection

Payload = dict[str, FileProjection]


class VolumeError(Exception):
    """A source of the volume cannot be projected yet (a missing ConfigMap, no token)."""


async def payload(pod: Obj, source: Obj, tokens: TokenManager, objects: ObjectGetter) -> Payload:
    """Every file of the projected volume `source` for `pod`, or VolumeError naming what is missing."""
    default_mode = int(source.get("defaultMode", DEFAULT_MODE))
    out: Payload = {}
    problems: list[str] = []
    for projection in source.get("sources") or []:
        try:
            if (token := projection.get("serviceAccountToken")) is not None:
                out.update(await _token(pod, token, default_mode, tokens))
            elif (cm := projection.get("configMap")) is not None:
                out.update(await _keys(pod, cm, default_mode, objects, secret=False))
            elif (secret := projection.get("secret")) is not None:
                out.update(await _keys(pod, secret, default_mode, objects, secret=True))
            elif (downward := projection.get("downwardAPI")) is not None:
                out.update(downward_api(pod, downward.get("items") or [], default_mode))
            else:  # clusterTrustBundle: no ClusterTrustBundle API here to read it from
                log.warning("Pod %s: projected source %s is not supported; left out", meta.key(pod), sorted(projection))
        except VolumeError as exc:
            problems.append(str(exc))
    if problems:
        raise VolumeError(errors.aggregate(problems))
    return out


async def _token(pod: Obj, projection: Obj, mode: int, tokens: TokenManager) -> Payload:
    service_account = str(spec_of(pod).get("serviceAccountName") or "")
    if not service_account:
        raise VolumeError("the pod has no serviceAccountName to request a token for")
    audience = str(projection.get("audience") or "")
    key = TokenKey(namespace=meta.namespace(pod), service_account=service_account,
                   audiences=(audience,) if audience else (),
                   expiration_seconds=int(projection.get("expirationSeconds") or DEFAULT_TOKEN_EXPIRATION),
                   pod_name=meta.name(pod), pod_uid=meta.uid(pod))
    try:
        token = await tokens.get(key)
    except TokenUnavailable as exc:
        raise VolumeError(str(exc)) from exc
    return {str(projection["path"]): FileProjection(token.token.encode(), mode)}


async def _keys(pod: Obj, projection: Obj, default_mode: int, objects: ObjectGetter, *, secret: bool) -> Payload:
    """A ConfigMap's or Secret's keys (all, or the listed `items` at their paths); upstream MakePayload."""
    kind = "secret" if secret else "configmap"
    name, optional = str(projection.get("name") or ""), bool(projection.get("optional"))
    try:
        obj = await get_config_object(objects, meta.namespace(pod), name, secret=secret, optional=optional)
    except ObjectUnavailable as exc:
        raise VolumeError(str(exc)) from exc
    if obj is None:
        return {}
    if secret:
        values = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    else:
        values = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
        values.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    items = projection.get("items") or []
    if not items:
        return {k: FileProjection(v, default_mode) for k, v in values.items()}
    out: Payload = {}
    for item in items:
        if item["key"] not in values:
            if optional:
                continue
            raise VolumeError(f"{kind} references non-existent {'secret' if secret else 'config'} key: "
                              f"{item['key']}")
        out[str(item["path"])] = FileProjection(values[item["key"]], int(item.get("mode", default_mode)))
    return out


def downward_api(pod: Obj, items: list[Obj], default_mode: int) -> Payload:
    """The pod's metadata fields a downwardAPI volume may hold (name, namespace, uid, labels, annotations)."""
    out: Payload = {}
    for item in items:
        field = (item.get("fieldRef") or {}).get("fieldPath")
        if not field:  # resourceFieldRef: container limits are not projected by this kubelet
            log.warning("Pod %s: downwardAPI item %s is not a fieldRef; left out", meta.key(pod), item.get("path"))
            continue
        value = field_value(pod, str(field))
        if value is None:
            raise VolumeError(f"unsupported fieldPath: {field}")
        out[str(item["path"])] = FileProjection(value.encode(), int(item.get("mode", default_mode)))
    return out


def field_value(pod: Obj, path: str) -> str | None:
    """Upstream fieldpath.ExtractFieldPathAsString for the fields a volume may project."""
    if m := re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path):
        return str((meta.labels(pod) if m.group(1) == "labels" else meta.annotations(pod)).get(m.group(2), ""))
    simple = {"metadata.name": meta.name, "metadata.namespace": meta.namespace, "metadata.uid": meta.uid}
    if path in simple:
        return simple[path](pod)
    if path in ("metadata.labels", "metadata.annotations"):
        return format_map(meta.labels(pod) if path == "metadata.labels" else meta.annotations(pod))
    return None


def format_map(values: dict[str, str]) -> str:
    """`key="value"` lines, sorted by key (upstream fieldpath.FormatMap; values Go-quoted)."""
    return "\n".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(values.items()))
