"""KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): its fields, defaulting, plugin merging.

The file is read by the component config loader (strict, as upstream: an unknown field is an
error). Each profile starts from the upstream default plugin set (the subset kubelab implements)
and applies `plugins.<point>.disabled` (name or "*") then `enabled` (in place when already
a default, so a weight can be changed; appended otherwise), like upstream `mergePlugins`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.kube.component import config as component_config
from lab.kube.component.config import (
    ANY,
    BOOL,
    CLIENT_CONNECTION,
    DURATION,
    INT,
    LEADER_ELECTION,
    STR,
    ConfigType,
    Fields,
    ListOf,
)
from lab.kube.component.config import (
    ConfigError as ConfigError,  # re-exported: plugins raise config.ConfigError
)

API_VERSION = "kubescheduler.config.k8s.io/v1"
KIND = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME = "default-scheduler"
EXTENSION_POINTS = ("queueSort", "preFilter", "filter", "postFilter", "preScore", "score", "reserve", "bind")
# the v1 points kubelab accepts in a file but runs no plugins at
OTHER_EXTENSION_POINTS = ("preEnqueue", "permit", "preBind", "postBind", "multiPoint")

# the v1 types (k8s.io/kube-scheduler/config/v1), field for field; plugin args are each plugin's to check
_PLUGIN: Fields = {"name": STR, "weight": INT}
_PLUGIN_SET: Fields = {"enabled": ListOf(_PLUGIN), "disabled": ListOf(_PLUGIN)}
_PROFILE: Fields = {
    "schedulerName": STR, "percentageOfNodesToScore": INT,
    "plugins": {point: _PLUGIN_SET for point in EXTENSION_POINTS + OTHER_EXTENSION_POINTS},
    "pluginConfig": ListOf({"name": STR, "args": ANY}),
}
_EXTENDER: Fields = {
    "urlPrefix": STR, "filterVerb": STR, "preemptVerb": STR, "prioritizeVerb": STR, "weight": INT, "bindVerb": STR,
    "enableHTTPS": BOOL, "httpTimeout": DURATION, "nodeCacheCapable": BOOL, "ignorable": BOOL,
    "tlsConfig": {"insecure": BOOL, "serverName": STR, "certFile": STR, "keyFile": STR, "caFile": STR,
                  "certData": STR, "keyData": STR, "caData": STR},
    "managedResources": ListOf({"name": STR, "ignoredByScheduler": BOOL}),
}
CONFIG_TYPE = ConfigType(API_VERSION, KIND, {
    "parallelism": INT, "leaderElection": LEADER_ELECTION, "clientConnection": CLIENT_CONNECTION,
    "enableProfiling": BOOL, "enableContentionProfiling": BOOL, "percentageOfNodesToScore": INT,
    "podInitialBackoffSeconds": INT, "podMaxBackoffSeconds": INT, "profiles": ListOf(_PROFILE),
    "extenders": ListOf(_EXTENDER), "delayCacheUntilActive": BOOL,
}, strict=True)

# upstream v1 defaults (pkg/scheduler/apis/config/v1/default_plugins.go), limited to our plugins
DEFAULT_PLUGINS: dict[str, list[tuple[str, int]]] = {
    "queueSort": [("PrioritySort", 0)],
    "preFilter": [("NodeAffinity", 0), ("NodePorts", 0), ("NodeResourcesFit", 0)],
    "filter": [("NodeUnschedulable", 0), ("NodeName", 0), ("TaintToleration", 0), ("NodeAffinity", 0),
               ("NodePorts", 0), ("NodeResourcesFit", 0)],
    "postFilter": [],
    "preScore": [("TaintToleration", 0), ("NodeAffinity", 0), ("NodeResourcesFit", 0),
                 ("NodeResourcesBalancedAllocation", 0)],
    "score": [("TaintToleration", 3), ("NodeAffinity", 2), ("NodeResourcesFit", 1),
              ("NodeResourcesBalancedAllocation", 1)],
    "reserve": [],
    "bind": [("DefaultBinder", 0)],
}


@dataclass(frozen=True)
class ProfileConfig:
    """One scheduling profile after defaulting: plugins per extension point with score weights."""

    scheduler_name: str
    plugins: dict[str, list[tuple[str, int]]]
    plugin_args: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class SchedulerConfig:
    """The defaulted KubeSchedulerConfiguration."""

    profiles: tuple[ProfileConfig, ...]
    kubeconfig: str = ""
    """clientConnection.kubeconfig (the --kubeconfig flag wins)."""
    leader_elect: bool = True
    lease_namespace: str = "kube-system"
    lease_name: str = "kube-scheduler"
    percentage_of_nodes_to_score: int = 0
    """0 means adaptive (50 - nodes/125, at least 5%), as upstream."""


def merge_plugins(point: str, spec: dict[str, Any] | None) -> list[tuple[str, int]]:
    current = list(DEFAULT_PLUGINS.get(point, []))
    spec = spec or {}
    disabled = {p.get("name") for p in spec.get("disabled") or []}
    if "*" in disabled:
        current = []
    else:
        current = [(n, w) for n, w in current if n not in disabled]
    for p in spec.get("enabled") or []:
        name, weight = p.get("name"), int(p.get("weight") or 0)
        if not name:
            raise ConfigError(f"plugins.{point}.enabled: a plugin needs a name")
        if point == "score" and weight == 0:
            weight = 1
        idx = next((i for i, (n, _) in enumerate(current) if n == name), None)
        if idx is None:
            current.append((name, weight))
        else:
            current[idx] = (name, weight or current[idx][1])
    return current


def profile_from_dict(doc: dict[str, Any]) -> ProfileConfig:
    plugins_doc = doc.get("plugins") or {}
    plugins = {point: merge_plugins(point, plugins_doc.get(point)) for point in EXTENSION_POINTS}
    args = {}
    for pc in doc.get("pluginConfig") or []:
        if not pc.get("name"):
            raise ConfigError("profiles.pluginConfig: a name is required")
        args[pc["name"]] = pc.get("args") or {}
    return ProfileConfig(doc.get("schedulerName") or DEFAULT_SCHEDULER_NAME, plugins, args)


def from_dict(doc: dict[str, Any] | None) -> SchedulerConfig:
    """A KubeSchedulerConfiguration given as a dict (its fields checked as a file's are)."""
    return _defaulted(component_config.decode(doc or {}, CONFIG_TYPE, KIND))


def load(path: str | Path | None) -> SchedulerConfig:
    """The --config file, or upstream's defaults without one."""
    if not path:
        return from_dict({})
    doc = component_config.load(path, CONFIG_TYPE)
    try:
        return _defaulted(doc)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _defaulted(doc: dict[str, Any]) -> SchedulerConfig:
    profiles = tuple(profile_from_dict(p) for p in doc.get("profiles") or [{}])
    names = [p.scheduler_name for p in profiles]
    if len(set(names)) != len(names):
        raise ConfigError(f"profiles: duplicate schedulerName in {names}")
    le = doc.get("leaderElection") or {}
    return SchedulerConfig(
        profiles=profiles,
        kubeconfig=(doc.get("clientConnection") or {}).get("kubeconfig") or "",
        leader_elect=bool(le.get("leaderElect", True)),
        lease_namespace=le.get("resourceNamespace") or "kube-system",
        lease_name=le.get("resourceName") or "kube-scheduler",
        percentage_of_nodes_to_score=int(doc.get("percentageOfNodesToScore") or 0),
    )
