"""Kubelet settings from upstream flags and the KubeletConfiguration file (kubelet.config.k8s.io/v1beta1).

As upstream, the config file gives the base and flags given on the command line win. The
file is read by the component config loader: every v1beta1 field is known (most do nothing
here), an unknown one is warned about and dropped, as upstream's lenient v1beta1 decoding.
"""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass, field, fields, replace
from typing import Any

from lab.kube.component import config as component_config
from lab.kube.component import parse_bool, parse_duration
from lab.kube.component.config import (
    ANY,
    BOOL,
    DURATION,
    FLOAT,
    INT,
    LOGGING,
    STR,
    ConfigType,
    FieldType,
    ListOf,
    MapOf,
)
from lab.kube.kubelet.cri.client import DEFAULT_ENDPOINT
from lab.kube.kubelet.events import go_duration
from lab.kube.kubelet.eviction import DEFAULT_HARD, ThresholdError, parse_thresholds
from lab.kube.machinery.quantity import QuantityError, parse_quantity


@dataclass(frozen=True)
class KubeletSettings:
    kubeconfig: str = ""
    """Path to the kubeconfig the kubelet talks to the API server with."""
    node_name: str = ""
    """The Node's name (--hostname-override, else the host name, lower-cased)."""
    node_ip: str = ""
    """The address reported as InternalIP and used as hostIP and route gateway by other nodes."""
    container_runtime_endpoint: str = DEFAULT_ENDPOINT
    """The CRI socket of the container runtime."""
    cni_conf_dir: str = "/etc/cni/net.d"
    """Where the kubelet writes 10-kubelab.conflist (containerd's CRI plugin conf_dir)."""
    root_dir: str = "/var/lib/kubelet"
    """The kubelet's state directory (also what ephemeral-storage capacity measures)."""
    healthz_port: int = 10248
    """Port of /healthz; 0 disables it."""
    healthz_bind_address: str = "127.0.0.1"
    """Address of /healthz (loopback, as upstream)."""
    node_status_update_frequency: float = 10.0
    """Seconds between node status PATCHes (nodeStatusUpdateFrequency)."""
    max_pods: int = 110
    """The pods capacity reported on the Node (maxPods)."""
    cluster_dns: tuple[str, ...] = ()
    """DNS servers for ClusterFirst pods (clusterDNS); empty means the node's resolv.conf."""
    cluster_domain: str = "cluster.local"
    """The cluster's DNS domain (clusterDomain)."""
    resolv_conf: str = "/etc/resolv.conf"
    """The resolver config pods with dnsPolicy Default inherit (resolvConf)."""
    pod_cidr_routes: bool = True
    """Keep `ip route` entries to other nodes' podCIDRs (host-gw networking)."""
    node_labels: dict[str, str] = field(default_factory=dict)
    """Extra labels to register the Node with (--node-labels k=v,...)."""
    verbosity: int = 0
    """klog -v level."""
    # The kubelet API (10250). Defaults are KubeletConfiguration v1beta1's (anonymous off, webhook
    # authn and authz on), not upstream's legacy flag defaults (anonymous on, AlwaysAllow): the lab
    # never runs an open kubelet unless it is asked to in so many words.
    enable_server: bool = True
    """Serve the kubelet API (enableServer)."""
    address: str = "0.0.0.0"
    """Address of the kubelet API (address, --address)."""
    port: int = 10250
    """Port of the kubelet API (port, --port); 0 disables it."""
    tls_cert_file: str = ""
    """Serving certificate (tlsCertFile, --tls-cert-file); none means a self-signed kubelet.crt."""
    tls_private_key_file: str = ""
    """Its key (tlsPrivateKeyFile, --tls-private-key-file)."""
    cert_dir: str = ""
    """Where the self-signed pair lives (--cert-dir); empty means <root-dir>/pki."""
    client_ca_file: str = ""
    """Client certificates from this CA authenticate (authentication.x509.clientCAFile, --client-ca-file)."""
    anonymous_auth: bool = False
    """Requests without credentials are system:anonymous (authentication.anonymous.enabled, --anonymous-auth)."""
    authentication_webhook: bool = True
    """Bearer tokens are checked by TokenReview (authentication.webhook.enabled, --authentication-token-webhook)."""
    authentication_webhook_cache_ttl: float = 120.0
    """Seconds a TokenReview answer is reused (authentication.webhook.cacheTTL)."""
    authorization_mode: str = "Webhook"
    """Webhook (SubjectAccessReview per request) or AlwaysAllow (authorization.mode, --authorization-mode)."""
    authorization_webhook_cache_authorized_ttl: float = 300.0
    """Seconds an allowing review is reused (authorization.webhook.cacheAuthorizedTTL)."""
    authorization_webhook_cache_unauthorized_ttl: float = 30.0
    """Seconds a refusing review is reused (authorization.webhook.cacheUnauthorizedTTL)."""
    fine_grained_authz: bool = True
    """featureGates.KubeletFineGrainedAuthz (beta, on, since 1.33): nodes/pods, nodes/healthz... before nodes/proxy."""
    container_log_max_size: str = "10Mi"
    """A container's log file is rotated once this big (containerLogMaxSize, --container-log-max-size)."""
    container_log_max_files: int = 5
    """Log files kept per container, the live one included (containerLogMaxFiles, --container-log-max-files)."""
    container_log_monitor_interval: float = 10.0
    """Seconds between looks at the log files' sizes (containerLogMonitorInterval)."""
    system_reserved: dict[str, str] = field(default_factory=dict)
    """Held back from pods for the OS (systemReserved, --system-reserved cpu=100m,memory=100Mi)."""
    kube_reserved: dict[str, str] = field(default_factory=dict)
    """Held back from pods for the kubelet and runtime (kubeReserved, --kube-reserved)."""
    eviction_hard: dict[str, str] | None = None
    """Hard eviction thresholds (evictionHard, --eviction-hard memory.available<100Mi,...); None: the defaults."""
    eviction_pressure_transition_period: float = 300.0
    """Seconds a pressure condition stays after its signal recovered (evictionPressureTransitionPeriod)."""
    sync_frequency: float = 60.0
    """Seconds between re-projections of a running pod's volumes, and the most a ConfigMap or Secret is
    cached for (syncFrequency; upstream's TTL controller makes the cache's TTL 0 in small clusters)."""
    static_pod_path: str = ""
    """Pod manifests this kubelet runs itself, mirrored in the API (staticPodPath, --pod-manifest-path)."""
    file_check_frequency: float = 20.0
    """Seconds between reads of staticPodPath (fileCheckFrequency)."""
    shutdown_grace_period: float = 0.0
    """Seconds a node shutdown is delayed for its pods to stop (shutdownGracePeriod); 0: no graceful shutdown."""
    shutdown_grace_period_critical_pods: float = 0.0
    """The part of it kept for system-critical pods, stopped last (shutdownGracePeriodCriticalPods)."""
    shutdown_grace_period_by_pod_priority: tuple[tuple[int, int], ...] = ()
    """(priority, seconds) pairs instead of the two above (shutdownGracePeriodByPodPriority)."""
    hollow: bool = False
    """A hollow node (kubemark's): a fake runtime, nothing touched on the host, the network always ready."""
    hollow_nodes: int = 0
    """Run this many hollow kubelets in one process, named <hostname-override>-<n> (--hollow-nodes)."""

    @property
    def container_log_max_bytes(self) -> int:
        return int(parse_quantity(self.container_log_max_size))


def _typed(ftype: FieldType, names: str) -> dict[str, FieldType]:
    return dict.fromkeys(names.split(), ftype)


# KubeletConfiguration v1beta1 (k8s.io/kubelet/config/v1beta1), every field with its type
CONFIG_TYPE = ConfigType("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration", {
    **_typed(STR, "staticPodPath podLogsDir staticPodURL address tlsCertFile tlsPrivateKeyFile tlsMinVersion"
                  " imagePullCredentialsVerificationPolicy healthzBindAddress clusterDomain kubeletCgroups"
                  " systemCgroups cgroupRoot cgroupDriver cpuManagerPolicy memoryManagerPolicy"
                  " topologyManagerPolicy topologyManagerScope hairpinMode podCIDR resolvConf contentType"
                  " containerLogMaxSize configMapAndSecretChangeDetectionStrategy reservedSystemCPUs"
                  " showHiddenMetricsForVersion systemReservedCgroup kubeReservedCgroup volumePluginDir providerID"
                  " memoryReservationPolicy containerRuntimeEndpoint imageServiceEndpoint"),
    **_typed(INT, "port readOnlyPort registryPullQPS registryBurst eventRecordQPS eventBurst healthzPort oomScoreAdj"
                  " nodeLeaseDurationSeconds imageGCHighThresholdPercent imageGCLowThresholdPercent maxPods"
                  " podPidsLimit nodeStatusMaxImages maxOpenFiles kubeAPIQPS kubeAPIBurst maxParallelImagePulls"
                  " evictionMaxPodGracePeriod podsPerCore iptablesMasqueradeBit iptablesDropBit"
                  " containerLogMaxFiles containerLogMaxWorkers"),
    **_typed(BOOL, "enableServer rotateCertificates serverTLSBootstrap enableDebuggingHandlers"
                   " enableContentionProfiling cgroupsPerQOS singleProcessOOMKill runOnce cpuCFSQuota"
                   " serializeImagePulls mergeDefaultEvictionSettings enableControllerAttachDetach"
                   " protectKernelDefaults makeIPTablesUtilChains failSwapOn kernelMemcgNotification"
                   " enableSystemLogHandler enableSystemLogQuery enableProfilingHandler enableDebugFlagsHandler"
                   " seccompDefault registerNode localStorageCapacityIsolation failCgroupV1"),
    **_typed(DURATION, "syncFrequency fileCheckFrequency httpCheckFrequency streamingConnectionIdleTimeout"
                       " nodeStatusUpdateFrequency nodeStatusReportFrequency imageMinimumGCAge imageMaximumGCAge"
                       " volumeStatsAggPeriod cpuManagerReconcilePeriod draManagerReconcilePeriod"
                       " runtimeRequestTimeout cpuCFSQuotaPeriod evictionPressureTransitionPeriod"
                       " containerLogMonitorInterval shutdownGracePeriod shutdownGracePeriodCriticalPods"),
    **_typed(ListOf(STR), "tlsCipherSuites preloadedImagesVerificationAllowlist clusterDNS enforceNodeAllocatable"
                          " allowedUnsafeSysctls"),
    **_typed(MapOf(STR), "cpuManagerPolicyOptions topologyManagerPolicyOptions qosReserved evictionHard evictionSoft"
                         " evictionSoftGracePeriod evictionMinimumReclaim systemReserved kubeReserved"),
    "memoryThrottlingFactor": FLOAT, "tlsCurvePreferences": ListOf(INT), "featureGates": MapOf(BOOL),
    "staticPodURLHeader": MapOf(ListOf(STR)), "logging": LOGGING, "tracing": ANY,
    "authentication": {"x509": {"clientCAFile": STR}, "webhook": {"enabled": BOOL, "cacheTTL": DURATION},
                       "anonymous": {"enabled": BOOL}},
    "authorization": {"mode": STR, "webhook": {"cacheAuthorizedTTL": DURATION, "cacheUnauthorizedTTL": DURATION}},
    "memorySwap": {"swapBehavior": STR}, "crashLoopBackOff": {"maxContainerRestartPeriod": DURATION},
    "userNamespaces": {"idsPerPod": INT},
    "shutdownGracePeriodByPodPriority": ListOf({"priority": INT, "shutdownGracePeriodSeconds": INT}),
    "reservedMemory": ListOf({"numaNode": INT, "limits": MapOf(ANY)}),
    "registerWithTaints": ListOf({"key": STR, "value": STR, "effect": STR, "timeAdded": STR}),
}, strict=False)

# settings field -> the KubeletConfiguration field it comes from
CONFIG_FIELDS = {"node_status_update_frequency": "nodeStatusUpdateFrequency", "max_pods": "maxPods",
                 "cluster_dns": "clusterDNS", "cluster_domain": "clusterDomain",
                 "container_runtime_endpoint": "containerRuntimeEndpoint", "healthz_port": "healthzPort",
                 "healthz_bind_address": "healthzBindAddress", "resolv_conf": "resolvConf",
                 "enable_server": "enableServer", "address": "address", "port": "port",
                 "tls_cert_file": "tlsCertFile", "tls_private_key_file": "tlsPrivateKeyFile",
                 "client_ca_file": "authentication.x509.clientCAFile",
                 "anonymous_auth": "authentication.anonymous.enabled",
                 "authentication_webhook": "authentication.webhook.enabled",
                 "authentication_webhook_cache_ttl": "authentication.webhook.cacheTTL",
                 "authorization_mode": "authorization.mode",
                 "authorization_webhook_cache_authorized_ttl": "authorization.webhook.cacheAuthorizedTTL",
                 "authorization_webhook_cache_unauthorized_ttl": "authorization.webhook.cacheUnauthorizedTTL",
                 "fine_grained_authz": "featureGates.KubeletFineGrainedAuthz",
                 "container_log_max_size": "containerLogMaxSize", "container_log_max_files": "containerLogMaxFiles",
                 "container_log_monitor_interval": "containerLogMonitorInterval",
                 "system_reserved": "systemReserved", "kube_reserved": "kubeReserved", "eviction_hard": "evictionHard",
                 "eviction_pressure_transition_period": "evictionPressureTransitionPeriod",
                 "static_pod_path": "staticPodPath", "sync_frequency": "syncFrequency",
                 "file_check_frequency": "fileCheckFrequency", "shutdown_grace_period": "shutdownGracePeriod",
                 "shutdown_grace_period_critical_pods": "shutdownGracePeriodCriticalPods",
                 "shutdown_grace_period_by_pod_priority": "shutdownGracePeriodByPodPriority"}
AUTHORIZATION_MODES = ("AlwaysAllow", "Webhook")
MAX_HOLLOW_NODES = 256 * 64  # the hollow nodes' address plan (lab/kube/kubelet/hollow.py)


def from_config_file(path: str) -> dict[str, Any]:
    """Settings values from the KubeletConfiguration file at `path`."""
    values = component_config.pick(component_config.load(path, CONFIG_TYPE), CONFIG_FIELDS)
    if "cluster_dns" in values:
        values["cluster_dns"] = tuple(values["cluster_dns"])
    if "shutdown_grace_period_by_pod_priority" in values:
        values["shutdown_grace_period_by_pod_priority"] = tuple(
            (int(e.get("priority", 0)), int(e.get("shutdownGracePeriodSeconds", 0)))
            for e in values["shutdown_grace_period_by_pod_priority"])
    return values


def configz(settings: KubeletSettings) -> dict[str, Any]:
    """`/configz`: what this kubelet runs with, as the KubeletConfiguration fields it has
    (durations in Go's form), under `kubeletconfig` as upstream serves it."""
    doc: dict[str, Any] = {"kind": CONFIG_TYPE.kind, "apiVersion": CONFIG_TYPE.api_version}
    for name, path in CONFIG_FIELDS.items():
        value: Any = getattr(settings, name)
        if name == "eviction_hard" and value is None:
            value = DEFAULT_HARD
        elif name == "shutdown_grace_period_by_pod_priority":
            value = [{"priority": p, "shutdownGracePeriodSeconds": sec} for p, sec in value]
        ftype: Any = CONFIG_TYPE.fields
        *parents, leaf = path.split(".")
        target = doc
        for part in parents:
            ftype = ftype.get(part, {}) if isinstance(ftype, dict) else {}
            target = target.setdefault(part, {})
        ftype = ftype.get(leaf) if isinstance(ftype, dict) else None
        if ftype == DURATION and isinstance(value, int | float):
            value = go_duration(value)
        target[leaf] = list(value) if isinstance(value, tuple) else value
    return {"kubeletconfig": doc}


def key_values(text: str, sep: str = "=") -> dict[str, str]:
    """`cpu=100m,memory=1Gi` (or `memory.available<100Mi,...` with sep `<`) as a map."""
    out = {}
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        key, found, value = item.partition(sep)
        if not found or not key.strip() or not value.strip():
            raise argparse.ArgumentTypeError(f"{item!r} is not key{sep}value")
        out[key.strip()] = value.strip()
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubelet", description="kubelab's kubelet: runs the pods bound to this node")
    p.add_argument("--kubeconfig")
    p.add_argument("--config", help="KubeletConfiguration file (kubelet.config.k8s.io/v1beta1)")
    p.add_argument("--hostname-override", dest="node_name")
    p.add_argument("--node-ip")
    p.add_argument("--container-runtime-endpoint")
    p.add_argument("--cni-conf-dir")
    p.add_argument("--root-dir")
    p.add_argument("--healthz-port", type=int)
    p.add_argument("--healthz-bind-address")
    p.add_argument("--node-status-update-frequency", type=parse_duration)
    p.add_argument("--max-pods", type=int)
    p.add_argument("--cluster-dns", type=lambda s: tuple(x for x in s.split(",") if x))
    p.add_argument("--cluster-domain")
    p.add_argument("--resolv-conf")
    p.add_argument("--pod-cidr-routes", type=parse_bool)
    p.add_argument("--node-labels", type=lambda s: dict(kv.split("=", 1) for kv in s.split(",") if kv))
    p.add_argument("--address")
    p.add_argument("--port", type=int)
    p.add_argument("--tls-cert-file")
    p.add_argument("--tls-private-key-file")
    p.add_argument("--cert-dir")
    p.add_argument("--client-ca-file")
    p.add_argument("--anonymous-auth", type=parse_bool, nargs="?", const=True)
    p.add_argument("--authentication-token-webhook", dest="authentication_webhook", type=parse_bool, nargs="?",
                   const=True)
    p.add_argument("--authentication-token-webhook-cache-ttl", dest="authentication_webhook_cache_ttl",
                   type=parse_duration)
    p.add_argument("--authorization-mode")
    p.add_argument("--authorization-webhook-cache-authorized-ttl", type=parse_duration)
    p.add_argument("--authorization-webhook-cache-unauthorized-ttl", type=parse_duration)
    p.add_argument("--container-log-max-size")
    p.add_argument("--container-log-max-files", type=int)
    p.add_argument("--system-reserved", type=key_values)
    p.add_argument("--kube-reserved", type=key_values)
    p.add_argument("--eviction-hard", type=lambda s: key_values(s, "<"))
    p.add_argument("--eviction-pressure-transition-period", type=parse_duration)
    p.add_argument("--pod-manifest-path", dest="static_pod_path")
    p.add_argument("--sync-frequency", type=parse_duration)
    p.add_argument("--hollow-nodes", type=int, help="run N hollow kubelets (fake runtime) in this process")
    p.add_argument("-v", "--v", dest="verbosity", type=int)
    return p


def check_log_rotation(settings: KubeletSettings) -> None:
    """Upstream ValidateKubeletConfiguration's checks on the container log settings."""
    try:
        size = parse_quantity(settings.container_log_max_size) if settings.container_log_max_size else None
    except QuantityError:
        size = None
    if size is None or size <= 0:
        raise component_config.ConfigError(
            f"invalid configuration: containerLogMaxSize (--container-log-max-size) {settings.container_log_max_size}"
            " must be a positive quantity")
    if settings.container_log_max_files < 2:
        raise component_config.ConfigError(
            f"invalid configuration: containerLogMaxFiles (--container-log-max-files) "
            f"{settings.container_log_max_files} must be greater than 1")
    if settings.container_log_monitor_interval < 3:
        raise component_config.ConfigError(
            "invalid configuration: containerLogMonitorInterval (--container-log-monitor-interval)"
            f" {settings.container_log_monitor_interval}s must be a positive time duration greater than or equal to 3s")


def check_shutdown(settings: KubeletSettings) -> None:
    """Upstream ValidateKubeletConfiguration's checks on the graceful node shutdown settings."""
    grace, critical = settings.shutdown_grace_period, settings.shutdown_grace_period_critical_pods
    g, c = go_duration(grace), go_duration(critical)
    if grace < 0 or critical < 0 or critical > grace:
        raise component_config.ConfigError(
            f"invalid configuration: shutdownGracePeriod {g} must be >= 0, shutdownGracePeriodCriticalPods {c} must be"
            f" >= 0, and shutdownGracePeriodCriticalPods {c} must be <= shutdownGracePeriod {g}")
    for name, value in (("shutdownGracePeriod", grace), ("shutdownGracePeriodCriticalPods", critical)):
        if 0 < value < 1:
            raise component_config.ConfigError(
                f"invalid configuration: {name} {go_duration(value)} must be either zero or otherwise >= 1 sec")
    if (grace > 0 or critical > 0) and settings.shutdown_grace_period_by_pod_priority:
        raise component_config.ConfigError("invalid configuration: Cannot specify both shutdownGracePeriodByPodPriority"
                                           " and shutdownGracePeriod at the same time")
    for _priority, seconds in settings.shutdown_grace_period_by_pod_priority:
        if seconds < 0:
            raise component_config.ConfigError(
                f"invalid configuration: shutdownGracePeriodByPodPriority.shutdownGracePeriodSeconds {seconds}"
                " must be >= 0")


def default_node_ip(hostname: str) -> str:
    """Upstream picks the host name's address when --node-ip is unset; loopback does not count."""
    try:
        addr = socket.gethostbyname(hostname)
    except OSError:
        return ""
    return "" if addr.startswith("127.") else addr


def settings_from_args(argv: list[str] | None = None) -> KubeletSettings:
    args = parser().parse_args(argv)
    known = {f.name for f in fields(KubeletSettings)}
    values = component_config.layer(from_config_file(args.config) if args.config else {},
                                    {k: v for k, v in vars(args).items() if k in known})
    settings = replace(KubeletSettings(), **values)
    if settings.authorization_mode not in AUTHORIZATION_MODES:  # upstream: "unknown authorization mode"
        mode = settings.authorization_mode
        raise component_config.ConfigError(f"authorization.mode: unknown authorization mode {mode!r}"
                                           f" (one of {', '.join(AUTHORIZATION_MODES)})")
    check_log_rotation(settings)
    check_shutdown(settings)
    if not 0 <= settings.hollow_nodes <= MAX_HOLLOW_NODES:
        raise component_config.ConfigError(f"--hollow-nodes must be between 0 and {MAX_HOLLOW_NODES}")
    if settings.eviction_hard is not None:
        try:
            parse_thresholds(settings.eviction_hard)
        except ThresholdError as exc:
            raise component_config.ConfigError(f"invalid configuration: {exc}") from None
    name = (settings.node_name or socket.gethostname()).lower()
    return replace(settings, node_name=name, node_ip=settings.node_ip or default_node_ip(name))
