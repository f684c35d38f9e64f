"""The admission plugins `--enable-admission-plugins` names, in upstream's order."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lab.kube.apiserver.admission import serviceaccount
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
}


class UnknownPluginError(ValueError):
    """`--enable-admission-plugins` names a plugin this server does not have."""


def build_plugins(settings: Settings, registries: Mapping[Resource, Registry]) -> list[AdmissionPlugin]:
    unknown = [n for n in settings.enable_admission_plugins if n not in PLUGINS]
    if unknown:
        raise UnknownPluginError(f"unknown admission plugins: {', '.join(unknown)} "
                                 f"(known: {', '.join(PLUGINS) or 'none'})")
    return [factory(settings, registries) for name, factory in PLUGINS.items()
            if name in settings.enable_admission_plugins]
