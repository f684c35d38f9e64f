"""The asyncio API client, informers, work queue and leader election (like client-go)."""

from lab.kube.client.client import TRANSPORT_ERRORS, Client, WatchEvent
from lab.kube.client.config import ClientConfig, load_kubeconfig
from lab.kube.client.controller import run_controller
from lab.kube.client.informer import Informer
from lab.kube.client.leader import LeaderElector
from lab.kube.client.ratelimit import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    default_controller_rate_limiter,
)
from lab.kube.client.store import Store
from lab.kube.client.workqueue import WorkQueue
from lab.kube.machinery.patches import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH

__all__ = [
    "JSON_PATCH", "MERGE_PATCH", "STRATEGIC_MERGE_PATCH", "TRANSPORT_ERRORS",
    "BucketRateLimiter", "Client", "ClientConfig", "Informer", "ItemExponentialFailureRateLimiter",
    "LeaderElector", "MaxOfRateLimiter", "Store", "WatchEvent", "WorkQueue",
    "default_controller_rate_limiter", "load_kubeconfig", "run_controller",
]
