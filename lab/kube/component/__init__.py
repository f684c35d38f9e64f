"""Process plumbing every component shares: klog logging, the health server, signal handling,
flag parsers, the config file loader, the host command runner and leader-elected running.
Components import it; it imports only the client."""

from lab.kube.component.config import ConfigError, ConfigType
from lab.kube.component.flags import parse_bool, parse_duration
from lab.kube.component.healthz import HEALTH_PATHS, HealthServer
from lab.kube.component.klog import KlogFormatter, setup_logging
from lab.kube.component.leader import identity, run_leading
from lab.kube.component.process import (
           CommandError,
           RecordingRunner,
           Result,
           Runner,
           SubprocessRunner,
)
from lab.kube.component.run import cancel_on_signals, run_component

__all__ = ["HEALTH_PATHS", "CommandError", "ConfigError", "ConfigType", "HealthServer", "KlogFormatter",
           "RecordingRunner", "Result", "Runner", "SubprocessRunner", "cancel_on_signals", "identity", "parse_bool",
           "parse_duration", "run_component", "run_leading", "setup_logging"]
