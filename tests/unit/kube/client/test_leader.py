"""Leader election over a Lease: one leader at a time, hand-over on release, work stops when the lease is lost."""

import asyncio
import re

from lab.kube.client import LeaderElector
from lab.kube.machinery import meta
from lab.kube.machinery.catalog import LEASES
from tests.support import eventually, holds_for

FAST = {"lease_duration": 1.0, "renew_deadline": 0.6, "retry_period": 0.1}
MICRO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def elector(client, identity):
    return LeaderElector(client, "kube-scheduler", "kube-system", identity, **FAST)


async def leading_flag(started: asyncio.Event, stopped: asyncio.Event):
    started.set()
    try:
        await asyncio.sleep(3600)
    finally:
        stopped.set()


async def test_first_candidate_creates_the_lease_and_leads(api, client):
    started, stopped = asyncio.Event(), asyncio.Event()
    a = elector(client, "cp1")
    run = asyncio.create_task(a.run(lambda: leading_flag(started, stopped)))
    await asyncio.wait_for(started.wait(), 2)
    lease = await api.object(LEASES, "kube-scheduler", "kube-system")
    spec = lease["spec"]
    assert spec["holderIdentity"] == "cp1" and spec["leaseDurationSeconds"] == 1
    assert re.fullmatch(MICRO, spec["acquireTime"]) and re.fullmatch(MICRO, spec["renewTime"])
    assert spec["leaseTransitions"] == 0 and a.is_leader

    async def renewed():
        now = (await api.object(LEASES, "kube-scheduler", "kube-system"))["spec"]
        return now["renewTime"] > spec["renewTime"] and now

    assert (await eventually(renewed, 2, "a renewal"))["acquireTime"] == spec["acquireTime"]
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    assert stopped.is_set()
    assert (await api.object(LEASES, "kube-scheduler", "kube-system"))["spec"]["holderIdentity"] == ""


async def test_second_candidate_waits_then_takes_over_on_release(api, client):
    a_started, a_stopped = asyncio.Event(), asyncio.Event()
    b_started, b_stopped = asyncio.Event(), asyncio.Event()
    a, b = elector(client, "cp1"), elector(client, "cp2")
    run_a = asyncio.create_task(a.run(lambda: leading_flag(a_started, a_stopped)))
    await asyncio.wait_for(a_started.wait(), 2)
    run_b = asyncio.create_task(b.run(lambda: leading_flag(b_started, b_stopped)))
    await eventually(lambda: b.leader == "cp1", 2, "cp2 to see cp1 lead")
    # longer than the lease lasts: only cp1's renewals can keep cp2 out
    await holds_for(lambda: not b_started.is_set() and b.leader == "cp1", FAST["lease_duration"] + 0.2,
                    "cp2 waiting while cp1 renews")
    run_a.cancel()
    await asyncio.gather(run_a, return_exceptions=True)
    await asyncio.wait_for(b_started.wait(), 2)
    spec = (await api.object(LEASES, "kube-scheduler", "kube-system"))["spec"]
    assert spec["holderIdentity"] == "cp2" and spec["leaseTransitions"] == 1
    run_b.cancel()
    await asyncio.gather(run_b, return_exceptions=True)


async def test_a_dead_holders_lease_is_taken_after_it_expires(api, client):
    await api.seed(LEASES, {"metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
                      "spec": {"holderIdentity": "dead", "leaseDurationSeconds": 1,
                               "renewTime": "2020-01-01T00:00:00.000000Z", "leaseTransitions": 4}})
    started, stopped = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    run = asyncio.create_task(elector(client, "cp1").run(lambda: leading_flag(started, stopped)))
    await asyncio.wait_for(started.wait(), 3)
    # the old renewTime is not trusted (clock skew): we wait a full duration from our own observation
    assert loop.time() - t0 >= 0.9
    assert (await api.object(LEASES, "kube-scheduler", "kube-system"))["spec"]["leaseTransitions"] == 5
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)


async def test_losing_the_lease_cancels_the_leading_work(api, client):
    started, stopped = asyncio.Event(), asyncio.Event()
    run = asyncio.create_task(elector(client, "cp1").run(lambda: leading_flag(started, stopped)))
    await asyncio.wait_for(started.wait(), 2)
    # another process steals the lease and keeps renewing it
    stop_thief = asyncio.Event()

    async def thief():
        while not stop_thief.is_set():
            lease = await api.object(LEASES, "kube-scheduler", "kube-system")
            lease["spec"].update(holderIdentity="thief", renewTime=meta.now_micro())
            del lease["metadata"]["resourceVersion"]  # an unconditional write: it wins every race
            await api.update(LEASES, lease)
            await asyncio.sleep(0.05)

    steal = asyncio.create_task(thief())
    await asyncio.wait_for(run, 3)  # run returns once the lease is lost
    assert stopped.is_set()
    stop_thief.set()
    await steal


async def test_a_dropped_connection_during_renewal_is_retried_not_fatal(api, client, monkeypatch):
    """An API server restart closes pooled connections mid-request (`ServerDisconnectedError`,
    not an OSError): the leader retries on its next period instead of losing the lease."""
    import aiohttp

    started, stopped = asyncio.Event(), asyncio.Event()
    a = elector(client, "cp1")
    run = asyncio.create_task(a.run(lambda: leading_flag(started, stopped)))
    await asyncio.wait_for(started.wait(), 2)
    real_get, drops = client.get, []

    async def flaky_get(*args, **kwargs):
        if len(drops) < 2:
            drops.append(1)
            raise aiohttp.ServerDisconnectedError()
        return await real_get(*args, **kwargs)

    monkeypatch.setattr(client, "get", flaky_get)
    # longer than the renew deadline: two failed renewals in a row must not cost the lease
    await holds_for(lambda: a.is_leader and not run.done() and not stopped.is_set(),
                    FAST["renew_deadline"] + 0.3, "cp1 leading")
    assert len(drops) == 2
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
