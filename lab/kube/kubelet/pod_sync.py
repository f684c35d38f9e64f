"""PodSyncer: close the gap between one pod's spec and what the runtime runs (upstream SyncPod/KillPod).

Level-triggered and idempotent: it reads the runtime, starts a sandbox if there is no ready one,
then starts each container that should run (pulling its image by imagePullPolicy, with crash
back-off between restarts). `kill` stops and removes everything a pod uid owns.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lab.kube.kubelet import container_env, lifecycle, pod_spec, podconfig, termination_message
from lab.kube.kubelet.backoff import Backoff
from lab.kube.kubelet.container_env import EnvError
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError, Runtime
from lab.kube.kubelet.events import PodEvents
from lab.kube.kubelet.image_puller import ImagePuller, Retry
from lab.kube.kubelet.pod_spec import is_sidecar
from lab.kube.kubelet.pod_status import NO_PROBES, TERMINAL, Probes, Waiting
from lab.kube.kubelet.runtime_state import ContainerRecord, PodRuntime, read_pod
from lab.kube.kubelet.volumes import VolumeManager, VolumeNotReady
from lab.kube.kubelet.volumes.objects import ObjectGetter
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)
MINIMUM_GRACE = 2  # upstream minimumGracePeriodInSeconds: what SIGTERM gets after a preStop hook

@dataclass
class SyncResult:
    runtime: PodRuntime
    waiting: dict[str, Waiting] = field(default_factory=dict)
    requeue_after: float | None = None  # come back then (a back-off ends)

    def retry_in(self, seconds: float) -> None:
        self.requeue_after = seconds if self.requeue_after is None else min(self.requeue_after, seconds)


def _in_sandbox(rt: PodRuntime, name: str, sandbox_id: str) -> bool:
    latest = rt.latest(name)
    return latest is not None and latest.sandbox_id == sandbox_id


def should_restart(pod: Obj, c: ContainerRecord) -> bool:
    policy = spec_of(pod).get("restartPolicy") or "Always"
    return policy == "Always" or (policy == "OnFailure" and c.exit_code != 0)


class PodSyncer:
    def __init__(self, runtime: Runtime, node: podconfig.NodeFacts, clock: Callable[[], float] = time.time,
                 volumes: VolumeManager | None = None, services: Callable[[], list[Obj]] = list,
                 events: PodEvents | None = None, objects: ObjectGetter | None = None) -> None:
        """Without `volumes` the pod's volumes are not set up and containers mount none of them;
        `services` lists the cluster's Services (their environment variables); `events` records
        what happens to pods (Pulling, Created, BackOff...); `objects` reads the ConfigMaps and
        Secrets environment variables refer to (without it such a container cannot start)."""
        self.runtime, self.node, self.clock, self.volumes = runtime, node, clock, volumes
        self.objects = objects
        self.services = services
        self.events = events or PodEvents()
        self.crash_backoff = Backoff(clock=clock)
        self.images = ImagePuller(runtime, self.events, clock, objects)

    async def sync(self, pod: Obj, probes: Probes = NO_PROBES) -> SyncResult:
        """`probes` tells when a sidecar has started (its startup probe passed), so the next init container may run."""
        uid = meta.uid(pod)
        rt = await read_pod(self.runtime, uid)
        result = SyncResult(rt)
        if status_of(pod).get("phase") in TERMINAL:
            return result  # upstream: a finished pod never runs again
        if self.volumes is not None:
            try:  # upstream WaitForAttachAndMount: no sandbox before the volumes are there
                await self.volumes.setup(pod)
            except VolumeNotReady as exc:  # the volume manager logged why
                self.events.failed_mount(pod, str(exc))
                result.retry_in(exc.retry_after)
                return result  # its containers stay ContainerCreating
        sandbox = rt.sandbox
        if sandbox is None or not sandbox.ready:
            policy = spec_of(pod).get("restartPolicy") or "Always"
            if sandbox is not None and policy == "Never" and rt.containers:
                return result  # upstream: a Never pod whose sandbox died is not started again
            await self._start_sandbox(pod, rt)
            rt = result.runtime = await read_pod(self.runtime, uid)
            sandbox = rt.sandbox
        assert sandbox is not None
        config = podconfig.sandbox_config(pod, self.node, sandbox.attempt)
        changed, initialized = await self._sync_init_containers(pod, rt, sandbox.id, sandbox.ip, config, result,
                                                                probes)
        for spec in spec_of(pod).get("ephemeralContainers") or []:
            if rt.latest(spec["name"]) is None:  # started once, never again (upstream: not even in a new sandbox)
                changed |= await self._start(pod, spec, 0, sandbox.id, sandbox.ip, config, result,
                                             target=spec.get("targetContainerName") or "", rt=rt)
        if initialized:
            for spec in spec_of(pod).get("containers") or []:
                changed |= await self._sync_container(pod, spec, rt, sandbox.id, sandbox.ip, config, result,
                                                      lambda c: should_restart(pod, c))
            if not changed:
                changed = await self._stop_sidecars_when_done(pod, rt, sandbox.id)
        if changed:
            result.runtime = await read_pod(self.runtime, uid)
        return result

    async def _sync_init_containers(self, pod: Obj, rt: PodRuntime, sandbox_id: str, pod_ip: str,
                                    config: pb.PodSandboxConfig, result: SyncResult,
                                    probes: Probes) -> tuple[bool, bool]:
        """Run the init containers in order (upstream computeInitContainerActions): each regular one
        to success, each sidecar (`restartPolicy: Always`) until started. Returns (changed,
        initialized). Once a regular container ran in this sandbox the pod is initialized: regular
        init containers are done with, sidecars are only kept running."""
        s = spec_of(pod)
        initialized = any(_in_sandbox(rt, c["name"], sandbox_id) for c in s.get("containers") or [])
        policy = s.get("restartPolicy") or "Always"
        changed = False
        for spec in s.get("initContainers") or []:
            sidecar = is_sidecar(spec)
            if initialized and not sidecar:
                continue
            rule = (lambda c: True) if sidecar else (lambda c: c.exit_code != 0 and policy != "Never")
            if await self._sync_container(pod, spec, rt, sandbox_id, pod_ip, config, result, rule):
                changed = True
                if not initialized:
                    return True, False  # the next one waits for this one
                continue
            if initialized:
                continue
            latest = rt.latest(spec["name"])
            if latest is None or not _in_sandbox(rt, spec["name"], sandbox_id):
                return changed, False
            done = (latest.running and probes.started(meta.uid(pod), spec["name"], latest.id) if sidecar
                    else latest.exited and latest.exit_code == 0)
            if not done:
                return changed, False
        return changed, True

    async def _stop_sidecars_when_done(self, pod: Obj, rt: PodRuntime, sandbox_id: str) -> bool:
        """Once every regular container has finished for good, the sidecars are stopped, last first."""
        sidecars = pod_spec.sidecar_names(pod)
        if not sidecars:
            return False
        for spec in spec_of(pod).get("containers") or []:
            latest = rt.latest(spec["name"])
            if latest is None or not _in_sandbox(rt, spec["name"], sandbox_id) or not latest.exited \
                    or should_restart(pod, latest):
                return False
        stopped = False
        for name in reversed(sidecars):
            latest = rt.latest(name)
            if latest is not None and latest.running:
                self.events.killing(pod, name)
                await self.stop(pod, latest, grace_period(pod), rt.sandbox_ip)
                stopped = True
        return stopped

    async def _start_sandbox(self, pod: Obj, rt: PodRuntime) -> None:
        old = rt.sandbox
        for s in rt.sandboxes:  # a dead sandbox takes its containers with it; stop leftovers first
            await self.runtime.stop_pod_sandbox(s.id)
        attempt = old.attempt + 1 if old else 0
        if old is not None:
            self.events.sandbox_changed(pod)
        log.info("Creating sandbox for pod %s/%s (attempt %d)", meta.namespace(pod), meta.name(pod), attempt)
        try:
            await self.runtime.run_pod_sandbox(podconfig.sandbox_config(pod, self.node, attempt))
        except CRIError as exc:
            self.events.sandbox_failed(pod, exc.details)
            raise

    async def _sync_container(self, pod: Obj, spec: Obj, rt: PodRuntime, sandbox_id: str, pod_ip: str,
                              config: pb.PodSandboxConfig, result: SyncResult,
                              restarts_after: Callable[[ContainerRecord], bool]) -> bool:
        """Returns True when it changed something in the runtime; `restarts_after` says whether an
        exited instance is started again."""
        name, key = spec["name"], f"{meta.uid(pod)}/{spec['name']}"
        latest = rt.latest(name)
        in_sandbox = _in_sandbox(rt, name, sandbox_id)
        if latest is not None and in_sandbox and latest.running:
            if latest.spec_hash and latest.spec_hash != podconfig.container_hash(spec):
                log.info("Container %s of pod %s changed, restarting it", name, meta.key(pod))
                self.events.killing(pod, name, f"Container {name} definition changed, will be restarted")
                await self.stop(pod, latest, grace_period(pod), pod_ip)
                return await self._start(pod, spec, latest.restart_count + 1, sandbox_id, pod_ip, config, result)
            return False
        if latest is not None and in_sandbox and latest.state == pb.CONTAINER_CREATED:
            await self.runtime.start_container(latest.id)  # created before a kubelet restart, never started
            return True
        if latest is not None and in_sandbox and latest.exited:
            if not restarts_after(latest):
                return False
            wait = self.crash_backoff.remaining(key, latest.finished_at / 1e9)
            if wait > 0:
                result.waiting[name] = Waiting("CrashLoopBackOff", (
                    f"back-off {int(self.crash_backoff.get(key))}s restarting failed container={name} "
                    f"pod={meta.name(pod)}_{meta.namespace(pod)}({meta.uid(pod)})"))
                result.retry_in(wait)
                self.events.crash_backoff(pod, name)
                return False
            self.crash_backoff.next(key)
        restarts = latest.restart_count + 1 if latest is not None else 0
        return await self._start(pod, spec, restarts, sandbox_id, pod_ip, config, result)

    async def _start(self, pod: Obj, spec: Obj, restarts: int, sandbox_id: str, pod_ip: str,
                     config: pb.PodSandboxConfig, result: SyncResult, target: str = "",
                     rt: PodRuntime | None = None) -> bool:
        """`target` names the container whose PID namespace an ephemeral container joins."""
        name = spec["name"]
        target_id = ""
        if target:
            running = rt.latest(target) if rt is not None else None
            if running is None or not running.running:
                result.waiting[name] = Waiting("ContainerCreating")
                result.retry_in(self.crash_backoff.initial)
                return False  # upstream fails the start while the target does not run
            target_id = running.id
        pulled = await self.images.ensure(pod, spec, config)
        if isinstance(pulled, Retry):
            result.waiting[name] = pulled.waiting
            if pulled.after is not None:
                result.retry_in(pulled.after)
            return False
        try:  # upstream generateContainerConfig: the environment and the non-root check
            env = await container_env.environment(
                pod, spec, pod_ip=pod_ip, node_name=self.node.node_name, node_ip=self.node.node_ip,
                allocatable=self.node.allocatable, objects=self.objects, services=self.services())
            violation = podconfig.non_root_violation(pod, spec, await self.runtime.image_status(spec.get("image", "")))
            if violation:
                raise EnvError(violation)
        except EnvError as exc:
            result.waiting[name] = Waiting("CreateContainerConfigError", str(exc))
            result.retry_in(self.crash_backoff.initial)  # upstream's pod worker back-off period
            self.events.failed(pod, str(exc))
            return False
        for warning in env.warnings:
            self.events.invalid_env_names(pod, warning)
        mounts = self.volumes.mounts(pod, spec) if self.volumes is not None else []
        if self.volumes is not None and (m := termination_message.mount(self.volumes.pod_dir(meta.uid(pod)), spec,
                                                                         restarts)):
            mounts.append(m)
        cfg = podconfig.container_config(pod, spec, self.node, restarts, pod_ip, mounts, env.variables, target_id)
        try:
            cid = await self.runtime.create_container(sandbox_id, cfg, config)
        except CRIError as exc:
            result.waiting[name] = Waiting("CreateContainerError", exc.details)
            result.retry_in(self.crash_backoff.initial)
            self.events.failed(pod, exc.details)
            return False
        self.events.created(pod, name)
        try:
            await self.runtime.start_container(cid)
        except CRIError as exc:
            result.waiting[name] = Waiting("RunContainerError", exc.details)
            result.retry_in(self.crash_backoff.initial)
            self.events.failed(pod, exc.details)
        else:
            self.events.started(pod, name)
            await self._post_start(pod, spec, cid, pod_ip, result)
        log.info("Started container %s of pod %s (restartCount %d)", name, meta.key(pod), restarts)
        await self._prune(result.runtime, name, keep=cid)
        return True

    async def _post_start(self, pod: Obj, spec: Obj, cid: str, pod_ip: str, result: SyncResult) -> None:
        """Upstream: the next container starts only after postStart; a failed hook kills the container."""
        hook = (spec.get("lifecycle") or {}).get("postStart")
        if not hook:
            return
        failure = await lifecycle.run_hook(self.runtime, hook, pod, spec, cid, pod_ip)
        if not failure:
            return
        name = spec["name"]
        self.events.failed_post_start_hook(pod, failure)
        self.events.killing(pod, name, "FailedPostStartHook")
        await self._kill_container(pod, name, cid, True, grace_period(pod), pod_ip)  # preStop runs, as upstream
        result.waiting[name] = Waiting("PostStartHookError", failure)

    async def _prune(self, rt: PodRuntime, name: str, keep: str) -> None:
        """Keep the new instance and the one before it (for `kubectl logs --previous`); remove older ones."""
        for old in rt.instances(name)[1:]:
            if old.id != keep and old.exited:
                await self.runtime.remove_container(old.id)

    async def stop_sandboxes(self, rt: PodRuntime) -> None:
        """A finished pod keeps its containers (for logs) but gives its network back."""
        for s in rt.sandboxes:
            if s.ready:
                await self.runtime.stop_pod_sandbox(s.id)

    async def stop(self, pod: Obj, c: ContainerRecord, grace: int, pod_ip: str) -> None:
        """Stop one container within `grace` seconds, its preStop hook first if it runs."""
        await self._kill_container(pod, c.name, c.id, c.running, grace, pod_ip)

    async def _kill_container(self, pod: Obj, name: str, cid: str, running: bool, grace: int, pod_ip: str) -> None:
        """Upstream killContainer: the preStop hook takes from the grace, at least 2 s are left for SIGTERM."""
        spec = pod_spec.container(pod, name)
        hook = ((spec or {}).get("lifecycle") or {}).get("preStop")
        if spec is not None and hook and running and grace > 0:
            started = time.monotonic()
            try:
                failure = await asyncio.wait_for(
                    lifecycle.run_hook(self.runtime, hook, pod, spec, cid, pod_ip, timeout=grace), grace)
            except TimeoutError:
                failure = ""
                log.info("preStop hook of %s in %s did not finish within %ds", name, meta.key(pod), grace)
            if failure:
                self.events.failed_pre_stop_hook(pod, failure)
            grace = max(MINIMUM_GRACE, grace - int(time.monotonic() - started))  # whole seconds, as upstream
        await self.runtime.stop_container(cid, grace)

    async def kill(self, uid: str, grace: int, pod: Obj | None = None) -> None:
        """Stop every container of pod `uid` (SIGTERM, SIGKILL after `grace`), then its sandboxes; remove all.
        With the `pod` (a deletion, not an orphan) each stop is a Killing event, and its sidecars
        stop after the regular containers, last first, within what is left of `grace`."""
        rt = await self._stop_running(uid, grace, pod)
        for s in rt.sandboxes:
            await self.runtime.stop_pod_sandbox(s.id)
        for c in rt.containers:
            await self.runtime.remove_container(c.id)
        for s in rt.sandboxes:
            await self.runtime.remove_pod_sandbox(s.id)
        if self.volumes is not None:  # nothing runs on the pod's files any more
            await self.volumes.cleanup(uid)
        self.crash_backoff.forget_prefix(f"{uid}/")
        self.images.forget(uid)

    async def stop_all(self, pod: Obj, grace: int) -> None:
        """Stop the pod's running containers as a deletion would, but keep them (and their logs)."""
        await self._stop_running(meta.uid(pod), grace, pod)

    async def _stop_running(self, uid: str, grace: int, pod: Obj | None) -> PodRuntime:
        rt = await read_pod(self.runtime, uid)
        running = [c for c in rt.containers if c.running]
        sidecars = pod_spec.sidecar_names(pod) if pod else []
        deadline = time.monotonic() + grace
        waves = [[c for c in running if c.name not in sidecars]]
        waves += [[c for c in running if c.name == name] for name in reversed(sidecars)]
        for wave in waves:
            if pod is not None:
                for c in wave:
                    self.events.killing(pod, c.name)
            left = max(0, math.ceil(deadline - time.monotonic()))
            await asyncio.gather(*(self.stop(pod, c, left, rt.sandbox_ip) if pod is not None
                                   else self.runtime.stop_container(c.id, left) for c in wave))
        return rt


def grace_period(pod: Obj) -> int:
    """The grace a deletion asked for, else the pod's terminationGracePeriodSeconds (default 30)."""
    md = meta.metadata(pod)
    if md.get("deletionGracePeriodSeconds") is not None:
        return int(md["deletionGracePeriodSeconds"])
    return int(spec_of(pod).get("terminationGracePeriodSeconds", 30))

