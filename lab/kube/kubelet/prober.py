"""Liveness, readiness and startup probes (upstream pkg/kubelet/prober: one worker per container
and probe kind, results feeding container readiness and restarts).

A worker starts with its container instance and stops with it. It waits `initialDelaySeconds`,
then probes every `periodSeconds` (each probe bounded by `timeoutSeconds`), and flips its
result after `successThreshold` successes or `failureThreshold` failures in a row (upstream
defaults 1 s timeout, 10 s period, 1 and 3). Readiness starts failed, liveness and startup
start passing/unknown; liveness and readiness wait for the startup probe to succeed. A flip
queues the pod so its status (or a restart, for liveness and startup) follows at once.

exec runs through CRI ExecSync; httpGet asks the pod IP (or `host`) and counts 200-399 as
success; tcpSocket needs a connection; grpc asks grpc.health.v1.Health/Check for SERVING.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from lab.kube.kubelet import grpc_probe
from lab.kube.kubelet.cri.runtime import CRIError, Runtime
from lab.kube.kubelet.events import PodEvents
from lab.kube.kubelet.pod_spec import is_sidecar
from lab.kube.kubelet.runtime_state import PodRuntime
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)
KINDS = ("startupProbe", "livenessProbe", "readinessProbe")
LABEL = {"startupProbe": "Startup", "livenessProbe": "Liveness", "readinessProbe": "Readiness"}
USER_AGENT = "kube-probe/1.33"
MAX_OUTPUT = 10 * 1024  # upstream keeps at most this much of a probe's output


@dataclass
class ProbeState:
    passing: bool
    successes: int = 0
    failures: int = 0
    task: asyncio.Task[None] | None = None


@dataclass
class ContainerProbes:
    container_id: str
    pod_ip: str = ""
    states: dict[str, ProbeState] = field(default_factory=dict)


def _int(probe: Obj, key: str, default: int) -> int:
    value = probe.get(key)
    return int(value) if isinstance(value, int) and value > 0 else default


def resolve_port(port: object, container: Obj) -> int:
    """A number, or the name of one of the container's ports (upstream findPortByName)."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    raise ValueError(f"couldn't find port: {port} in {container.get('name')}")


async def run_probe(runtime: Runtime, probe: Obj, container: Obj, container_id: str, pod_ip: str) -> tuple[bool, str]:
    """(success, output) of one probe, as upstream's prober.runProbe."""
    timeout = _int(probe, "timeoutSeconds", 1)
    try:
        if (exec_ := probe.get("exec")) is not None:
            answer = await runtime.exec_sync(container_id, list(exec_.get("command") or []), timeout)
            output = (answer.stdout + answer.stderr)[:MAX_OUTPUT].decode("utf-8", "replace")
            return answer.exit_code == 0, output
        if (http := probe.get("httpGet")) is not None:
            return await _http(http, container, pod_ip, timeout)
        if (tcp := probe.get("tcpSocket")) is not None:
            host, port = tcp.get("host") or pod_ip, resolve_port(tcp.get("port"), container)
            try:
                async with asyncio.timeout(timeout):
                    _, writer = await asyncio.open_connection(host, port)
                writer.close()
                return True, ""
            except (OSError, TimeoutError) as exc:
                return False, f"dial tcp {host}:{port}: {exc or 'i/o timeout'}"
        if (g := probe.get("grpc")) is not None:
            return await grpc_probe.check(pod_ip, int(g.get("port") or 0), str(g.get("service") or ""), timeout)
    except ValueError as exc:
        return False, str(exc)
    except CRIError as exc:
        return False, exc.details
    return True, ""  # no handler: upstream warns and succeeds


async def _http(http: Obj, container: Obj, pod_ip: str, timeout: int) -> tuple[bool, str]:
    scheme = str(http.get("scheme") or "HTTP").lower()
    host, port = http.get("host") or pod_ip, resolve_port(http.get("port"), container)
    path = str(http.get("path") or "/")
    url = f"{scheme}://{host}:{port}{path if path.startswith('/') else '/' + path}"
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    headers.update({h["name"]: h.get("value", "") for h in http.get("httpHeaders") or [] if h.get("name")})
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                session.get(url, headers=headers, ssl=False, allow_redirects=False) as answer:
            body = (await answer.content.read(MAX_OUTPUT)).decode("utf-8", "replace")
            if 200 <= answer.status < 400:
                return True, body
            return False, f"HTTP probe failed with statuscode: {answer.status}"
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return False, f'Get "{url}": {exc or "context deadline exceeded"}'


class ProbeManager:
    def __init__(self, runtime: Runtime, enqueue: Callable[[str], None], events: PodEvents | None = None) -> None:
        self.runtime, self.enqueue = runtime, enqueue
        self.events = events or PodEvents()
        self._pods: dict[tuple[str, str], ContainerProbes] = {}  # (pod uid, container) -> probes

    def update(self, pod: Obj, rt: PodRuntime, pod_ip: str) -> None:
        """Start workers for the running containers' probes; stop those of gone instances."""
        uid = meta.uid(pod)
        wanted: dict[str, tuple[Obj, str]] = {}
        s = spec_of(pod)
        for container in [*(c for c in s.get("initContainers") or [] if is_sidecar(c)), *(s.get("containers") or [])]:
            latest = rt.latest(container["name"])
            if latest is not None and latest.running and any(container.get(k) for k in KINDS):
                wanted[container["name"]] = (container, latest.id)
        for (puid, name), probes in list(self._pods.items()):
            if puid == uid and (name not in wanted or wanted[name][1] != probes.container_id):
                self._stop((puid, name))
        for name, (container, cid) in wanted.items():
            if (uid, name) not in self._pods:
                self._start(pod, container, cid, pod_ip)

    def forget(self, uid: str) -> None:
        for key in [k for k in self._pods if k[0] == uid]:
            self._stop(key)

    def _stop(self, key: tuple[str, str]) -> None:
        for state in self._pods.pop(key).states.values():
            if state.task is not None:
                state.task.cancel()

    def _start(self, pod: Obj, container: Obj, cid: str, pod_ip: str) -> None:
        probes = ContainerProbes(cid, pod_ip)
        self._pods[(meta.uid(pod), container["name"])] = probes
        for kind in KINDS:
            if container.get(kind):
                state = ProbeState(passing=kind != "readinessProbe")
                probes.states[kind] = state
                state.task = asyncio.create_task(self._work(pod, container, cid, kind, probes),
                                                 name=f"probe-{meta.name(pod)}-{container['name']}-{kind}")

    def _state(self, uid: str, name: str, cid: str) -> ContainerProbes | None:
        probes = self._pods.get((uid, name))
        return probes if probes is not None and probes.container_id == cid else None

    def started(self, uid: str, name: str, cid: str) -> bool:
        probes = self._state(uid, name, cid)
        startup = probes.states.get("startupProbe") if probes else None
        return startup is None or (startup.passing and startup.successes > 0)

    def ready(self, uid: str, name: str, cid: str) -> bool:
        """A running container is ready when started and (if it has one) its readiness probe passes."""
        probes = self._state(uid, name, cid)
        if probes is None:
            return True  # no probes (or not yet looked at): ready once running, as upstream
        readiness = probes.states.get("readinessProbe")
        return self.started(uid, name, cid) and (readiness is None or readiness.passing)

    def should_kill(self, uid: str, name: str, cid: str) -> str:
        """Why the container must be restarted (a failed liveness or startup probe), else ""."""
        probes = self._state(uid, name, cid)
        if probes is None:
            return ""
        for kind in ("startupProbe", "livenessProbe"):
            state = probes.states.get(kind)
            if state is not None and not state.passing:
                return f"Container {name} failed {LABEL[kind].lower()} probe, will be restarted"
        return ""

    async def _work(self, pod: Obj, container: Obj, cid: str, kind: str, probes: ContainerProbes) -> None:
        probe, state, name = container[kind], probes.states[kind], container["name"]
        period, initial = _int(probe, "periodSeconds", 10), probe.get("initialDelaySeconds") or 0
        success_needed, failure_needed = _int(probe, "successThreshold", 1), _int(probe, "failureThreshold", 3)
        await asyncio.sleep(float(initial))
        while True:
            if kind == "startupProbe" or self.started(meta.uid(pod), name, cid):
                if kind == "startupProbe" and state.successes and state.passing:
                    return  # a startup probe stops once it succeeded
                ok, output = await run_probe(self.runtime, probe, container, cid, probes.pod_ip)
                self._record(pod, kind, state, ok, output, success_needed, failure_needed)
            await asyncio.sleep(float(period))

    def _record(self, pod: Obj, kind: str, state: ProbeState, ok: bool, output: str, success_needed: int,
                failure_needed: int) -> None:
        before = state.passing
        if ok:
            state.successes, state.failures = state.successes + 1, 0
            if state.successes >= success_needed:
                state.passing = True
        else:
            state.failures, state.successes = state.failures + 1, 0
            self.events.unhealthy(pod, f"{LABEL[kind]} probe failed: {output}")
            if state.failures >= failure_needed:
                state.passing = False
        if state.passing != before or (kind == "startupProbe" and ok):
            self.enqueue(meta.key(pod))
