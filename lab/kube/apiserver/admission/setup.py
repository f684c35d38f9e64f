"""The admission plugins `--enable-admission-plugins` names, in upstream's order."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lab.kube.apiserver.admission import default_toleration_seconds, priority, serviceaccount
from lab.kube.apiserver.admission.chain import AdmissionPlugin
from lab.kube.apiserver.node import restriction
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.settings import Settings
from lab.kube.machinery.catalog import Resource

PluginFactory = Callable[[Settings, Mapping[Resource, Registry]], AdmissionPlugin]

# name -> factory, in the order upstream runs them (`plugins.go` AllOrderedPlugins)
PLUGINS: dict[str, PluginFactory] = {
    "ServiceAccount": serviceaccount.plugin,
    "NodeRestriction": restriction.plugin,
    "DefaultTolerationSeconds": default_toleration_seconds.plugin,
    "Priority": priority.plugin,
}
# what runs without being named, as upstream's DefaultOffAdmissionPlugins leaves on (kubelab runs
# ServiceAccount only when enabled: a bare test server has no ServiceAccounts to find)
DEFAULT_ON = ("DefaultTolerationSeconds", "Priority")


class UnknownPluginError(ValueError):
    """`--enable-admission-plugins` names a plugin this server does not have."""


def build_plugins(settings: Settings, registries: Mapping[Resource, Registry]) -> list[AdmissionPlugin]:
    enable, disable = settings.enable_admission_plugins, settings.disable_admission_plugins
    unknown = [n for n in (*enable, *disable) if n not in PLUGINS]
    if unknown:
        raise UnknownPluginError(f"unknown admission plugins: {', '.join(unknown)} "
                                 f"(known: {', '.join(PLUGINS) or 'none'})")
    both = [n for n in enable if n in disable]
    if both:
        raise UnknownPluginError(f"{both} in enable-admission-plugins and disable-admission-plugins overlapped")
    wanted = (set(DEFAULT_ON) | set(enable)) - set(disable)
    return [factory(settings, registries) for name, factory in PLUGINS.items() if name in wanted]
