"""The small schema language the definitions modules are written in.

A definition is a Go struct (or a special scalar like Quantity) named as upstream
names it in OpenAPI (`io.k8s.api.core.v1.Pod`); fields are typed with `Prim`,
`Ref`, `Arr` and `MapOf`. The validator and both OpenAPI renderers read these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Prim:
    """A JSON scalar: `type`/`format` as in OpenAPI, `go` as in Go decode errors."""

    type: str  # string | integer | number | boolean
    format: str = ""
    go: str = ""


@dataclass(frozen=True)
class Ref:
    """A reference to another definition by its full upstream name."""

    name: str

    @property
    def go(self) -> str:
        # Go prints a named type as <package>.<Type>: v1.Container, resource.Quantity.
        parts = self.name.split(".")
        return f"{parts[-2]}.{parts[-1]}"


@dataclass(frozen=True)
class Arr:
    """A JSON array; the patch fields drive strategic merge patch, kubectl's (read from OpenAPI)
    and the server's (`merge_keys`): a list merges only with `strategy` "merge"."""

    items: Type
    merge_key: str = ""  # x-kubernetes-patch-merge-key
    strategy: str = ""  # x-kubernetes-patch-strategy: merge | retainKeys | "merge,retainKeys"
    list_type: str = ""  # x-kubernetes-list-type: atomic | map | set
    map_keys: tuple[str, ...] = ()  # x-kubernetes-list-map-keys

    @property
    def go(self) -> str:
        return f"[]{self.items.go}"


@dataclass(frozen=True)
class MapOf:
    """A JSON object with free keys and typed values (Go map[string]T)."""

    values: Type

    @property
    def go(self) -> str:
        return f"map[string]{self.values.go}"


Type = Prim | Ref | Arr | MapOf


@dataclass(frozen=True)
class Desc:
    """A field type with a description (what `kubectl explain` prints)."""

    type: Type
    text: str


FieldSpec = Type | Desc

# Scalars that are Go structs with their own JSON decoding.
SPECIAL_KINDS = ("quantity", "int-or-string", "time", "free-form")


@dataclass(frozen=True)
class Definition:
    """One named schema: a struct with `props`, or a special scalar (`special`)."""

    name: str
    props: dict[str, FieldSpec] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    description: str = ""
    gvk: tuple[tuple[str, str, str], ...] = ()  # (group, version, kind) pairs
    special: str = ""  # one of SPECIAL_KINDS, or "" for a struct
    type: str = "object"  # OpenAPI type of a special definition
    format: str = ""

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def field(self, name: str) -> Type | None:
        spec = self.props.get(name)
        return spec.type if isinstance(spec, Desc) else spec


def field_type(spec: FieldSpec) -> Type:
    return spec.type if isinstance(spec, Desc) else spec


def field_desc(spec: FieldSpec) -> str:
    return spec.text if isinstance(spec, Desc) else ""


class Group:
    """Collects the definitions of one Go package, e.g. `io.k8s.api.core.v1`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.defs: dict[str, Definition] = {}

    def ref(self, short: str) -> Ref:
        return Ref(f"{self.prefix}.{short}")

    def define(
        self,
        short: str,
        props: Mapping[str, FieldSpec],
        *,
        required: tuple[str, ...] = (),
        desc: str = "",
        gvk: tuple[str, str, str] | None = None,
    ) -> Ref:
        name = f"{self.prefix}.{short}"
        self.defs[name] = Definition(name, dict(props), required, desc, (gvk,) if gvk else ())
        return Ref(name)

    def scalar(self, short: str, special: str, *, type: str = "string", format: str = "", desc: str = "") -> Ref:
        name = f"{self.prefix}.{short}"
        self.defs[name] = Definition(name, {}, (), desc, (), special, type, format)
        return Ref(name)


S = Prim("string", go="string")
I32 = Prim("integer", "int32", "int32")
I64 = Prim("integer", "int64", "int64")
F64 = Prim("number", "double", "float64")
B = Prim("boolean", go="bool")
BYTES = Prim("string", "byte", "[]uint8")  # base64 in JSON, like Go's []byte
SS = Arr(S)
SMAP = MapOf(S)
