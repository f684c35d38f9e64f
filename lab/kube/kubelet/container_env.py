"""A container's environment, as upstream's kubelet makes it (kubelet_pods.go makeEnvironmentVariables).

`envFrom` first (ConfigMaps and Secrets, each key behind the optional prefix; keys that are no
valid variable names are skipped and reported), then `env` in order: a `value` with `$(VAR)`
expanded over what is defined so far and the Service variables, or a `valueFrom` (fieldRef,
resourceFieldRef, configMapKeyRef, secretKeyRef). The Service variables come last, for the names
the container does not set itself. A missing object or key that is not `optional` is an
EnvError: the container is not created (CreateContainerConfigError) and the sync tries again.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.kube.kubelet import pod_spec
from lab.kube.kubelet.service_env import service_environment
from lab.kube.kubelet.volumes import projected
from lab.kube.kubelet.volumes.objects import ObjectGetter, ObjectUnavailable, get_config_object
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of
from lab.kube.machinery.quantity import parse_quantity

ENV_VAR_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")  # upstream IsEnvVarName (strict, as 1.30)
# the limits a container without its own takes from the node (upstream MergeContainerResourceLimits)
NODE_DEFAULTED_LIMITS = ("cpu", "memory", "ephemeral-storage")


class EnvError(Exception):
    """The environment cannot be made yet (a ConfigMap, Secret or key is missing)."""


@dataclass
class Environment:
    variables: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # InvalidEnvironmentVariableNames event messages


def expand(text: str, env: dict[str, str]) -> str:
    """Upstream `$(VAR)` expansion: known names are replaced, `$$` escapes, unknown refs stay as written."""
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", sub, text)


def field_value(pod: Obj, path: str, pod_ip: str, node_name: str, node_ip: str) -> str:
    """Upstream podFieldSelectorRuntimeValue: the node and status fields here, metadata.* as the
    downward API reads it (ExtractFieldPathAsString)."""
    s = spec_of(pod)
    values = {"spec.nodeName": s.get("nodeName") or node_name,
              "spec.serviceAccountName": s.get("serviceAccountName", ""),
              "status.hostIP": node_ip, "status.hostIPs": node_ip, "status.podIP": pod_ip, "status.podIPs": pod_ip}
    if path in values:
        return str(values[path])
    value = projected.field_value(pod, path)
    if value is None:
        raise EnvError(f"unsupported fieldPath: {path}")
    return value


def resource_value(ref: Obj, container: Obj, allocatable: dict[str, str]) -> str:
    """Upstream ExtractContainerResourceValue: the request or limit divided by `divisor`, rounded up;
    an unset cpu, memory or ephemeral-storage limit is the node's allocatable."""
    resource = str(ref.get("resource", ""))
    kind, _, name = resource.partition(".")
    res = container.get("resources") or {}
    values = dict(res.get(kind) or {}) if kind in ("limits", "requests") else {}
    if kind == "limits":
        for r in NODE_DEFAULTED_LIMITS:
            if r not in values and r in allocatable:
                values[r] = allocatable[r]
    if kind not in ("limits", "requests") or not (name in ("cpu", "memory", "ephemeral-storage")
                                                  or name.startswith("hugepages-")):
        raise EnvError(f"unsupported container resource : {resource}")
    divisor = parse_quantity(str(ref.get("divisor") or "1"))
    if divisor <= 0:
        divisor = parse_quantity("1")
    amount = parse_quantity(str(values.get(name, "0")))
    if name == "cpu":  # upstream compares milli values, so 1m is the finest step
        return str(math.ceil(math.ceil(amount * 1000) / math.ceil(divisor * 1000)))
    return str(math.ceil(math.ceil(amount) / math.ceil(divisor)))


class _Objects:
    """The pod's ConfigMaps and Secrets, each read once per environment (upstream's per-call maps)."""

    def __init__(self, pod: Obj, getter: ObjectGetter | None) -> None:
        self.pod, self.getter = pod, getter
        self._seen: dict[tuple[str, str], Obj | None] = {}

    async def data(self, secret: bool, name: str, optional: bool) -> dict[str, str] | None:
        """The object's string data; None when it is missing and `optional`."""
        key = ("secret" if secret else "configmap", name)
        if key not in self._seen:
            self._seen[key] = await self._get(secret, name, optional)
        obj = self._seen[key]
        if obj is None:
            return None
        raw = obj.get("data") or {}
        if secret:
            return {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in raw.items()}
        return {k: str(v) for k, v in raw.items()}

    async def _get(self, secret: bool, name: str, optional: bool) -> Obj | None:
        namespace = meta.namespace(self.pod)
        if self.getter is None:
            raise EnvError(f"couldn't get {'secret' if secret else 'configMap'} {namespace}/{name}, "
                           "no kubeClient defined")
        try:
            return await get_config_object(self.getter, namespace, name, secret=secret, optional=optional)
        except ObjectUnavailable as exc:
            raise EnvError(str(exc)) from exc


async def environment(pod: Obj, container: Obj, *, pod_ip: str, node_name: str, node_ip: str = "",
                      allocatable: dict[str, str] | None = None, objects: ObjectGetter | None = None,
                      services: Sequence[Obj] = ()) -> Environment:
    """The container's variables in upstream's order; `objects` reads the ConfigMaps and Secrets."""
    service_env = service_environment(pod, services)
    found = _Objects(pod, objects)
    out = Environment()
    env = out.variables
    for source in container.get("envFrom") or []:
        secret = isinstance(source.get("secretRef"), dict)
        ref = source.get("secretRef") if secret else source.get("configMapRef")
        if not isinstance(ref, dict):
            continue
        name = str(ref.get("name") or "")
        data = await found.data(secret, name, bool(ref.get("optional")))
        if data is None:
            continue
        invalid = []
        for key, value in data.items():
            key = str(source.get("prefix") or "") + key
            if not ENV_VAR_NAME.fullmatch(key):
                invalid.append(key)
                continue
            env[key] = value
        if invalid:
            out.warnings.append(f"Keys [{', '.join(sorted(invalid))}] from the EnvFrom "
                                f"{'secret' if secret else 'configMap'} {meta.namespace(pod)}/{name} were skipped "
                                "since they are considered invalid environment variable names.")
    for var in container.get("env") or []:
        value = var.get("value") or ""
        source = var.get("valueFrom") or {}
        if value:
            value = expand(value, {**service_env, **env})
        elif (ref := source.get("fieldRef")) is not None:
            value = field_value(pod, str(ref.get("fieldPath", "")), pod_ip, node_name, node_ip)
        elif (ref := source.get("resourceFieldRef")) is not None:
            target = pod_spec.container(pod, ref["containerName"]) if ref.get("containerName") else container
            value = resource_value(ref, target or container, allocatable or {})
        elif (ref := source.get("configMapKeyRef") or source.get("secretKeyRef")) is not None:
            secret = "secretKeyRef" in source
            name, key, optional = str(ref.get("name") or ""), str(ref.get("key") or ""), bool(ref.get("optional"))
            data = await found.data(secret, name, optional)
            if data is None or key not in data:
                if optional:
                    continue
                raise EnvError(f"couldn't find key {key} in {'Secret' if secret else 'ConfigMap'} "
                               f"{meta.namespace(pod)}/{name}")
            value = data[key]
        env[var["name"]] = value
    for key, value in service_env.items():
        env.setdefault(key, value)
    return out

