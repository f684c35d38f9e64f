"""One loader for the component configuration files (KubeSchedulerConfiguration,
KubeletConfiguration, KubeProxyConfiguration), with upstream's decoding rules.

As apimachinery's strict decoder: the file is YAML or JSON; its apiVersion and kind must be
the registered ones; every field must exist in the (Go) type and have its type; durations are
Go duration strings, parsed by `parse_duration` exactly as the flags are. An unknown or
duplicated field is an error for kube-scheduler (v1). The kubelet (v1beta1) and kube-proxy
(v1alpha1) then decode leniently and only warn, "Using lenient decoding as strict decoding
failed", as upstream does while those versions exist. Errors are one line naming the file
and the field. Each component declares its type (`ConfigType`) next to its settings and maps
the decoded document onto them with `pick`, then puts the flags on top with `layer`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import yaml

from lab.kube.component.flags import parse_duration

log = logging.getLogger(__name__)

# Scalar field types; a struct is a dict of field name -> type.
STR, INT, BOOL, FLOAT, DURATION, ANY = "str", "int", "bool", "float", "duration", "any"


@dataclass(frozen=True)
class ListOf:
    item: FieldType


@dataclass(frozen=True)
class MapOf:
    """A map with free-form keys (featureGates, evictionHard) and values of one type."""

    value: FieldType


FieldType = Union[str, "Fields", ListOf, MapOf]
Fields = Mapping[str, FieldType]
TYPE_META = ("apiVersion", "kind")


@dataclass(frozen=True)
class ConfigType:
    """A registered configuration kind and the fields of its version."""

    api_version: str
    kind: str
    fields: Fields
    strict: bool
    """Unknown or duplicate fields are an error; else a warning, and unknown fields are dropped."""


class ConfigError(ValueError):
    """A configuration cannot be used; the message is one line naming the file and the field."""


# component-base types the three share (k8s.io/component-base/config/v1alpha1, logs/api/v1)
CLIENT_CONNECTION: Fields = {"kubeconfig": STR, "acceptContentTypes": STR, "contentType": STR, "qps": FLOAT,
                             "burst": INT}
LEADER_ELECTION: Fields = {"leaderElect": BOOL, "leaseDuration": DURATION, "renewDeadline": DURATION,
                           "retryPeriod": DURATION, "resourceLock": STR, "resourceName": STR,
                           "resourceNamespace": STR}
LOGGING: Fields = {"format": STR, "flushFrequency": ANY, "verbosity": INT,
                   "vmodule": ListOf({"filePattern": STR, "verbosity": INT}), "options": ANY}


def load(path: str | Path, config_type: ConfigType) -> dict[str, Any]:
    """Read `path` as a `config_type` document; the decoded fields (durations in seconds)."""
    source = str(path)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the {config_type.kind} file: {exc.strerror or exc}") from exc
    loader = _Loader(text)
    try:
        doc = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML or JSON: {' '.join(str(exc).split())}") from exc
    finally:
        loader.dispose()
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: expected a {config_type.kind} object, got {_kind_of(doc)}")
    check_type(doc, config_type, source)
    return decode(doc, config_type, source, loader.duplicates)


def check_type(doc: Mapping[str, Any], config_type: ConfigType, source: str) -> None:
    """apiVersion and kind must both be given and be `config_type`'s (upstream: no kind is registered)."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    expected = f"expected kind {config_type.kind}, apiVersion {config_type.api_version}"
    if not api_version or not kind:
        raise ConfigError(f"{source}: {'kind' if not kind else 'apiVersion'} is missing ({expected})")
    if (api_version, kind) != (config_type.api_version, config_type.kind):
        raise ConfigError(f'{source}: no kind "{kind}" is registered for version "{api_version}" ({expected})')


def decode(doc: Mapping[str, Any], config_type: ConfigType, source: str,
           duplicates: Collection[str] = ()) -> dict[str, Any]:
    """The fields of `doc` checked and converted against `config_type` (apiVersion and kind are
    not looked at: `check_type` does that). Null counts as absent, as Go's zero value.
    `duplicates`: the parser's `duplicate field ...` findings, strict-decoding problems too."""
    problems = list(duplicates)
    body = {k: v for k, v in doc.items() if k not in TYPE_META}
    out = _decode_struct(body, config_type.fields, "", source, problems)
    if problems:
        message = "strict decoding error: " + ", ".join(problems)
        if config_type.strict:
            raise ConfigError(f"{source}: {message}")
        log.warning("%s: Using lenient decoding as strict decoding failed: %s", source, message)
    return out


def pick(doc: Mapping[str, Any], paths: Mapping[str, str]) -> dict[str, Any]:
    """Settings values from a decoded document: settings field -> dotted document path
    (`iptables.syncPeriod`); paths the document leaves out are left out."""
    out: dict[str, Any] = {}
    for name, path in paths.items():
        value: Any = doc
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            out[name] = value
    return out


def layer(file_values: Mapping[str, Any], flags: Mapping[str, Any],
          over_file: Collection[str] | None = None) -> dict[str, Any]:
    """The file's values with the flags given on the command line (not None) on top: every
    flag (the kubelet), or only those in `over_file` (kube-proxy with --config, where upstream
    lets the file win over the rest; an ignored flag that disagrees with the file is logged)."""
    out = dict(file_values)
    given = {k: v for k, v in flags.items() if v is not None}
    ignored = sorted(k for k, v in given.items() if over_file is not None and k not in over_file
                     and out.get(k) != v)
    if ignored:
        log.warning("Flags for %s are ignored: the --config file wins over them, as upstream", ", ".join(ignored))
    out.update({k: v for k, v in given.items() if over_file is None or k in over_file})
    return out


def _decode(value: Any, ftype: FieldType, path: str, source: str, problems: list[str]) -> Any:
    if isinstance(ftype, ListOf):
        if not isinstance(value, list):
            raise _type_error(source, path, "a list", value)
        return [_decode(v, ftype.item, f"{path}[{i}]", source, problems) for i, v in enumerate(value)]
    if isinstance(ftype, MapOf):
        if not isinstance(value, dict):
            raise _type_error(source, path, "an object", value)
        return {str(k): _decode(v, ftype.value, f"{path}.{k}", source, problems) for k, v in value.items()}
    if isinstance(ftype, Mapping):
        if not isinstance(value, dict):
            raise _type_error(source, path, "an object", value)
        return _decode_struct(value, ftype, path + ".", source, problems)
    return _decode_scalar(value, ftype, path, source)


def _decode_struct(value: Mapping[str, Any], fields: Fields, prefix: str, source: str,
                   problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in fields:
            problems.append(f'unknown field "{prefix}{key}"')
        elif item is not None:
            out[key] = _decode(item, fields[key], prefix + key, source, problems)
    return out


def _decode_scalar(value: Any, ftype: str, path: str, source: str) -> Any:
    if ftype == ANY:
        return value
    if ftype == STR and isinstance(value, str):
        return value
    if ftype == BOOL and isinstance(value, bool):
        return value
    if ftype == INT and isinstance(value, int) and not isinstance(value, bool):
        return value
    if ftype == FLOAT and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if ftype == DURATION and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            return parse_duration(value)
        except ValueError:
            raise ConfigError(f"{source}: {path}: invalid duration {value!r} (Go syntax: 30s, 1m30s, 500ms)") from None
    wanted = {STR: "a string", BOOL: "true or false", INT: "an integer", FLOAT: "a number",
              DURATION: "a duration"}[ftype]
    raise _type_error(source, path, wanted, value)


def _type_error(source: str, path: str, wanted: str, value: Any) -> ConfigError:
    shown = "" if isinstance(value, (dict, list)) else f" {value!r}"  # containers can be long: the kind says enough
    return ConfigError(f"{source}: {path}: expected {wanted}, got {_kind_of(value)}{shown}")


def _kind_of(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)


class _Loader(yaml.SafeLoader):
    """SafeLoader that notes repeated keys (the strict decoder reports them; plain YAML keeps the last)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    self.duplicates.append(f'duplicate field "{key.value}" (line {key.start_mark.line + 1})')
                seen.add(key.value)
        return super().construct_mapping(node, deep)
