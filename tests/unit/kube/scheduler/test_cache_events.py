"""The node cache counts assumed pods at once, and confirms or expires them."""

from lab.kube.scheduler.cache import ASSUMED_POD_TTL, SchedulerCache
from tests.unit.kube.scheduler.builders import node, pod


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_assumed_pod_counts_until_forgotten_or_expired() -> None:
    clock = Clock()
    cache = SchedulerCache(clock)
    cache.add_node(node("n1"))
    assumed = pod("p", cpu="1", node_name="n1")
    cache.assume(assumed)
    assert cache.node_infos()[0].requested.milli_cpu == 1000
    cache.forget(assumed)
    assert cache.node_infos()[0].requested.milli_cpu == 0
    cache.assume(assumed)
    cache.finish_binding(assumed)
    clock.t += ASSUMED_POD_TTL + 1
    cache.cleanup_expired()
    assert cache.node_infos()[0].requested.milli_cpu == 0  # the informer never confirmed it


def test_informer_confirmation_replaces_the_assumed_copy() -> None:
    cache = SchedulerCache(Clock())
    cache.add_node(node("n1"))
    cache.assume(pod("p", cpu="1", node_name="n1"))
    cache.add_pod(pod("p", cpu="1", node_name="n1"))
    assert not cache.is_assumed(pod("p")) and cache.node_infos()[0].requested.milli_cpu == 1000
    cache.remove_node(node("n1"))
    assert cache.node_infos() == []  # gone from snapshots even while its pods are still known
