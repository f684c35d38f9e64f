"""Subresources with their own shapes: pods/binding (-> Status 201) and */scale (autoscaling/v1)."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.registry.errors import conflict
from lab.kube.apiserver.schema import merge_keys, subresource_kind
from lab.kube.apiserver.strategies import validation as v
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.errors import BadRequest, Conflict
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.patches import apply_patch
from lab.kube.machinery.selectors import LabelSelector


async def bind(pods: Registry, namespace: str, name: str, binding: Any) -> Obj:
    """Set spec.nodeName and PodScheduled=True once; a second binding is a Conflict."""
    if not isinstance(binding, dict):
        raise BadRequest("binding must be a JSON object")
    target_ref = binding.get("target") or {}
    if not isinstance(target_ref, dict):
        raise BadRequest("json: cannot unmarshal into Go struct field Binding.target of type "
                         "v1.ObjectReference")
    target = target_ref.get("name")
    if not target or not isinstance(target, str):
        v.raise_invalid(catalog.PODS, name, [v.required("target.name")])
    extra_annotations = meta.metadata(binding).get("annotations") or {}

    def assign(pod: Obj) -> Obj:
        if meta.is_deleting(pod):
            raise Conflict(f"pod {name} is being deleted, cannot be assigned to a host", name=name,
                           kind="pods")
        node = spec_of(pod).get("nodeName")
        if node:
            raise Conflict(f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is '
                           f'already assigned to node "{node}"', name=name, kind="pods/binding")
        pod["spec"]["nodeName"] = target
        if extra_annotations:
            pod["metadata"].setdefault("annotations", {}).update(extra_annotations)
        status = pod.setdefault("status", {})
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                      "lastTransitionTime": meta.now()})
        status["conditions"] = conds
        return pod

    await pods.raw_update(namespace, name, assign)
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def scale_of(obj: Obj) -> Obj:
    md = meta.metadata(obj)
    spec, status = spec_of(obj), status_of(obj)
    selector = spec.get("selector")
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                            "creationTimestamp") if k in md},
            "spec": {"replicas": int(spec.get("replicas", 0))},
            "status": {"replicas": int(status.get("replicas", 0)),
                       "selector": str(LabelSelector.from_object(selector)) if selector else ""}}


async def get_scale(registry: Registry, namespace: str, name: str) -> Obj:
    return scale_of(await registry.get(namespace, name))


async def update_scale(registry: Registry, namespace: str, name: str, body: Any,
                       patch_type: str | None = None) -> Obj:
    """PUT (body is a Scale, CAS on its resourceVersion) or PATCH (patch applied to the Scale)."""
    scale_keys = merge_keys(subresource_kind(registry.resource, "scale"))

    def rescale(current: Obj) -> Obj:
        scale = scale_of(current)
        wanted = apply_patch(patch_type, scale, body, merge_keys=scale_keys) if patch_type else body
        if not isinstance(wanted, dict):
            raise BadRequest("body must be a Scale object")
        rv = meta.resource_version(wanted)
        if rv and rv != meta.resource_version(current):
            raise conflict(registry.resource, name)
        replicas = spec_of(wanted).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            v.raise_invalid(registry.resource, name,
                            [v.invalid("spec.replicas", replicas, "must be greater than or equal to 0")])
        current["spec"]["replicas"] = replicas
        return current

    updated = await registry.guaranteed_update(namespace, name, rescale)
    return scale_of(updated)
