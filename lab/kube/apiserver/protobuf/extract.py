"""Build `descriptors.json` (field numbers of the Kubernetes protobuf messages we decode)
from the descriptors a Go client embeds: `python -m lab.kube.apiserver.protobuf.extract
$(command -v kubectl.1.33) > descriptors.json`.

Go binaries register each `generated.proto` as a gzipped FileDescriptorProto; the field
numbers are part of the Kubernetes API contract, so any recent kubectl gives the same table.
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from typing import Any

from google.protobuf import descriptor_pb2

F = descriptor_pb2.FieldDescriptorProto
KINDS = {F.TYPE_STRING: "string", F.TYPE_BYTES: "bytes", F.TYPE_BOOL: "bool",
         F.TYPE_INT32: "int", F.TYPE_INT64: "int", F.TYPE_UINT32: "int", F.TYPE_UINT64: "int",
         F.TYPE_SINT32: "sint", F.TYPE_SINT64: "sint", F.TYPE_DOUBLE: "double",
         F.TYPE_FLOAT: "float", F.TYPE_FIXED32: "fixed32", F.TYPE_FIXED64: "fixed64",
         F.TYPE_MESSAGE: "message", F.TYPE_ENUM: "int"}
ROOTS = [
    ".k8s.io.api.core.v1." + k for k in (
        "Namespace", "Pod", "Node", "Service", "Endpoints", "Event", "ConfigMap", "Secret", "Binding")
] + [".k8s.io.api.apps.v1.Deployment", ".k8s.io.api.apps.v1.ReplicaSet", ".k8s.io.api.apps.v1.DaemonSet",
     ".k8s.io.api.apps.v1.ControllerRevision",
     ".k8s.io.api.discovery.v1.EndpointSlice", ".k8s.io.api.coordination.v1.Lease",
     ".k8s.io.api.autoscaling.v1.Scale", ".k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
     ".k8s.io.apimachinery.pkg.runtime.Unknown",
     ".k8s.io.api.core.v1.ServiceAccount", ".k8s.io.api.authentication.v1.TokenRequest",
     ".k8s.io.api.batch.v1.Job", ".k8s.io.api.batch.v1.CronJob",
     ".k8s.io.api.scheduling.v1.PriorityClass", ".k8s.io.api.policy.v1.PodDisruptionBudget",
     ".k8s.io.api.policy.v1.Eviction", ".k8s.io.api.networking.v1.Ingress",
     ".k8s.io.api.networking.v1.IngressClass", ".k8s.io.api.networking.v1.NetworkPolicy"] + [
    ".k8s.io.api.rbac.v1." + k for k in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
] + [".k8s.io.api.authentication.v1.TokenReview", ".k8s.io.api.authentication.v1.SelfSubjectReview",
     ".k8s.io.api.authentication.v1beta1.SelfSubjectReview"] + [
    ".k8s.io.api.authorization.v1." + k for k in (
        "SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview")]



def file_descriptors(binary: bytes) -> list[descriptor_pb2.FileDescriptorProto]:
    out = []
    for m in re.finditer(rb"\x1f\x8b\x08\x00\x00\x00\x00\x00", binary):
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(binary[m.start():m.start() + 4_000_000])
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
        except Exception:  # not every gzip magic is a descriptor; skip what does not parse
            continue
        if fd.name.startswith("k8s.io/"):
            out.append(fd)
    return out


def messages(fds: list[descriptor_pb2.FileDescriptorProto]) -> dict[str, descriptor_pb2.DescriptorProto]:
    table: dict[str, descriptor_pb2.DescriptorProto] = {}

    def add(prefix: str, msg: descriptor_pb2.DescriptorProto) -> None:
        full = f"{prefix}.{msg.name}"
        table[full] = msg
        for nested in msg.nested_type:
            add(full, nested)
    for fd in fds:
        for msg in fd.message_type:
            add("." + fd.package, msg)
    return table


def build(binary: bytes) -> dict[str, dict[str, list[Any]]]:
    """{message: {field number: [json name, kind, message type, repeated, (map key kind, map value kind)]}}."""
    table = messages(file_descriptors(binary))
    out: dict[str, dict[str, list[Any]]] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in out or name not in table:
            continue
        fields: dict[str, list[Any]] = {}
        for f in table[name].field:
            kind = KINDS.get(f.type, "bytes")
            entry: list[Any] = [f.json_name or f.name, kind, f.type_name if kind == "message" else "",
                           f.label == F.LABEL_REPEATED]
            if kind == "message":
                target = table.get(f.type_name)
                if target is not None and target.options.map_entry:
                    key, value = target.field[0], target.field[1]
                    vkind = KINDS.get(value.type, "bytes")
                    entry = [f.json_name or f.name, "map", value.type_name if vkind == "message" else "",
                             False, KINDS.get(key.type, "string"), vkind]
                    if vkind == "message":
                        todo.append(value.type_name)
                else:
                    todo.append(f.type_name)
            fields[str(f.number)] = entry
        out[name] = fields
    return out


def main() -> None:
    with open(sys.argv[1], "rb") as fh:
        data = build(fh.read())
    json.dump(data, sys.stdout, separators=(",", ":"), sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
