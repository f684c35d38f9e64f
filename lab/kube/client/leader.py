"""Lease-based leader election, as client-go `leaderelection` with a `coordination.k8s.io/v1` Lease.

Candidates create or compare-and-swap the Lease; the holder renews every `retry_period` and
gives up (cancelling its leading work) when it cannot renew within `renew_deadline`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from lab.kube.client.client import TRANSPORT_ERRORS, Client
from lab.kube.machinery import errors, meta
from lab.kube.machinery.catalog import LEASES
from lab.kube.machinery.objects import Obj, spec_of

# Timeouts use `asyncio.timeout`, not `asyncio.wait_for`: on Python 3.11 wait_for can swallow a
# cancellation that lands as the inner call completes, and a renew loop that missed its cancel
# would keep the lease (and `run`) alive forever.

log = logging.getLogger(__name__)
# an answer we can retry on the next period: the API said no, or the server was out of reach
LEASE_ERRORS: tuple[type[BaseException], ...] = (errors.APIError, *TRANSPORT_ERRORS)

class LeaderElector:
    """Runs `on_started_leading` only while this process holds `namespace/lease_name`."""

    def __init__(self, client: Client, lease_name: str, namespace: str = "kube-system", identity: str = "",
                 lease_duration: float = 15.0, renew_deadline: float = 10.0, retry_period: float = 2.0,
                 on_new_leader: Callable[[str], None] | None = None) -> None:
        if not identity:
            raise ValueError("leader election requires an identity")
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError("need lease_duration > renew_deadline > retry_period > 0")
        self.client = client
        self.lease_name = lease_name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.on_new_leader = on_new_leader
        self.leader = ""
        self._observed: Obj | None = None
        self._observed_at = 0.0  # our monotonic clock: never trust another host's renewTime
        self._is_leader = False

    @property
    def is_leader(self) -> bool:
        return self._is_leader

    async def run(self, on_started_leading: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Acquire, lead until the lease is lost (the work is cancelled), then return.

        Cancelling `run` while leading releases the lease so another candidate takes over at once.
        """
        await self._acquire()
        work = asyncio.create_task(on_started_leading(), name=f"leading-{self.lease_name}")
        renew = asyncio.create_task(self._renew_loop(), name=f"renew-{self.lease_name}")
        try:
            done, _ = await asyncio.wait({work, renew}, return_when=asyncio.FIRST_COMPLETED)
            if renew in done:
                log.error("leaderelection lost: %s/%s", self.namespace, self.lease_name)
            if work in done and not work.cancelled() and (exc := work.exception()) is not None:
                raise exc
        finally:
            self._is_leader = False
            for task in (work, renew):
                task.cancel()
            await asyncio.gather(work, renew, return_exceptions=True)
            await asyncio.shield(self._release())

    async def _acquire(self) -> None:
        log.info("attempting to acquire leader lease %s/%s...", self.namespace, self.lease_name)
        # ASYNC110 does not fit: the condition is a write to the API server's Lease, with no local Event to wait on
        while not await self._try_acquire_or_renew():  # noqa: ASYNC110
            await asyncio.sleep(self.retry_period)
        log.info("successfully acquired lease %s/%s", self.namespace, self.lease_name)

    async def _renew_loop(self) -> None:
        """Renew every retry_period; return (lost) when a renewal has not succeeded for renew_deadline."""
        loop = asyncio.get_running_loop()
        last_ok = loop.time()
        while True:
            await asyncio.sleep(self.retry_period)
            if await self._try_acquire_or_renew():
                last_ok = loop.time()
            elif not self._is_leader or loop.time() - last_ok >= self.renew_deadline:
                return

    async def _try_acquire_or_renew(self) -> bool:
        loop = asyncio.get_running_loop()
        now = meta.now_micro()
        try:
            async with asyncio.timeout(self.renew_deadline):
                lease = await self.client.get(LEASES, self.lease_name, self.namespace)
        except errors.NotFound:
            return await self._write(None, {"holderIdentity": self.identity,
                                            "leaseDurationSeconds": int(self.lease_duration),
                                            "acquireTime": now, "renewTime": now, "leaseTransitions": 0})
        except LEASE_ERRORS as exc:
            log.warning("error retrieving lease %s/%s: %r", self.namespace, self.lease_name, exc)
            return False
        spec = spec_of(lease)
        if spec != self._observed:
            self._observed, self._observed_at = dict(spec), loop.time()
        holder = spec.get("holderIdentity") or ""
        self._set_leader(holder)
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        if holder and holder != self.identity and self._observed_at + duration > loop.time():
            return False  # someone else holds an unexpired lease
        new = {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
               "renewTime": now}
        if holder == self.identity:
            new["acquireTime"] = spec.get("acquireTime") or now
            new["leaseTransitions"] = int(spec.get("leaseTransitions") or 0)
        else:
            new["acquireTime"] = now
            new["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        return await self._write(lease, new)

    async def _write(self, lease: Obj | None, spec: Obj) -> bool:
        try:
            if lease is None:
                body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                        "metadata": {"name": self.lease_name, "namespace": self.namespace}, "spec": spec}
                coro = self.client.create(LEASES, body, self.namespace)
            else:
                body = {**lease, "spec": spec}
                coro = self.client.update(LEASES, body)  # CAS on the resourceVersion we read
            async with asyncio.timeout(self.renew_deadline):
                written = await coro
        except LEASE_ERRORS as exc:
            log.info("failed to write lease %s/%s: %r", self.namespace, self.lease_name, exc)
            return False
        loop = asyncio.get_running_loop()
        self._observed, self._observed_at = dict(written.get("spec") or spec), loop.time()
        self._is_leader = True
        self._set_leader(self.identity)
        return True

    def _set_leader(self, holder: str) -> None:
        if holder != self.leader:
            self.leader = holder
            if holder != self.identity:
                self._is_leader = False
            if self.on_new_leader is not None and holder:
                self.on_new_leader(holder)

    async def _release(self) -> None:
        """Hand the lease back (ReleaseOnCancel): empty holder, 1 s duration."""
        try:
            async with asyncio.timeout(self.retry_period):
                lease = await self.client.get(LEASES, self.lease_name, self.namespace)
            if spec_of(lease).get("holderIdentity") != self.identity:
                return
            now = meta.now_micro()
            spec = {**lease["spec"], "holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": now}
            async with asyncio.timeout(self.retry_period):
                await self.client.update(LEASES, {**lease, "spec": spec})
        except LEASE_ERRORS as exc:
            log.info("failed to release lease %s/%s: %r", self.namespace, self.lease_name, exc)
