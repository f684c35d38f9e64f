"""Process plumbing every component shares: klog logging, the health server, signal handling,
flag parsers, the config file loader, the host command runner, leader-elected running, and
secure serving with delegated authentication and authorization (TokenReview, SubjectAccessReview).
Components import it; it imports only the client."""

from lab.kube.component import process_metrics, secure_serving
from lab.kube.component.config import ConfigError, ConfigType
from lab.kube.component.delegated_auth import (
           AccessAuthorizer,
           AccessDecision,
           AlwaysAllow,
           AuthorizationError,
           DelegatedAuthenticator,
           DelegatedAuthorizer,
           Unauthenticated,
)
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
from lab.kube.component.reviews import AccessAttributes, APIReviewer, FakeReviewer, Reviewer, ReviewError
from lab.kube.component.run import cancel_on_signals, run_component
from lab.kube.component.serving_certs import server_context

__all__ = ["HEALTH_PATHS", "APIReviewer", "AccessAttributes", "AccessAuthorizer", "AccessDecision", "AlwaysAllow",
           "AuthorizationError", "CommandError", "ConfigError", "ConfigType", "DelegatedAuthenticator",
           "DelegatedAuthorizer", "FakeReviewer", "HealthServer", "KlogFormatter", "RecordingRunner", "Result",
           "ReviewError", "Reviewer", "Runner", "SubprocessRunner", "Unauthenticated", "cancel_on_signals", "identity",
           "parse_bool", "parse_duration", "process_metrics", "run_component", "run_leading", "secure_serving",
           "server_context", "setup_logging"]
