"""Container lifecycle hooks (upstream pkg/kubelet/lifecycle/handlers.go): postStart right after
a container starts, preStop before it is stopped.

`exec` runs through CRI ExecSync; `httpGet` asks the pod IP (or `host`) and, as upstream, fails
only when no answer comes (any status code is fine); `sleep` waits. The failure texts are
upstream's, for the FailedPostStartHook and FailedPreStopHook events.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from lab.kube.kubelet.cri.runtime import CRIError, Runtime
from lab.kube.kubelet.events import pod_ref
from lab.kube.kubelet.prober import resolve_port
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)


def _go_list(words: list[str]) -> str:
    return "[" + " ".join(words) + "]"


async def run_hook(runtime: Runtime, hook: Obj, pod: Obj, container: Obj, container_id: str, pod_ip: str,
                   timeout: float | None = None) -> str:
    """Run one hook; "" when it succeeded, else upstream's message. `timeout` bounds a preStop
    (the grace period); a postStart runs as long as it takes, as upstream."""
    name, where = container["name"], pod_ref(pod)
    if (exec_ := hook.get("exec")) is not None:
        command = [str(c) for c in exec_.get("command") or []]
        try:
            answer = await runtime.exec_sync(container_id, command, int(timeout or 0))
        except CRIError as exc:
            return (f'Exec lifecycle hook ({_go_list(command)}) for Container "{name}" in Pod "{where}" failed '
                    f'- error: {exc.details}, message: ""')
        if answer.exit_code == 0:
            return ""
        output = (answer.stdout + answer.stderr).decode("utf-8", "replace")
        return (f'Exec lifecycle hook ({_go_list(command)}) for Container "{name}" in Pod "{where}" failed '
                f"- error: command '{' '.join(command)}' exited with {answer.exit_code}: {output}, "
                f'message: "{output}"')
    if (http := hook.get("httpGet")) is not None:
        return await _http(http, container, pod_ip, timeout, name, where)
    if (sleep := hook.get("sleep")) is not None:
        seconds = float(sleep.get("seconds") or 0)
        await asyncio.sleep(min(seconds, timeout) if timeout is not None else seconds)
        return ""
    log.warning("Container %s of pod %s: lifecycle handler %s is not supported; skipped", name, where, sorted(hook))
    return ""


async def _http(http: Obj, container: Obj, pod_ip: str, timeout: float | None, name: str, where: str) -> str:
    path = str(http.get("path") or "")
    try:
        port = resolve_port(http.get("port"), container)
    except ValueError as exc:
        return f'HTTP lifecycle hook ({path}) for Container "{name}" in Pod "{where}" failed - error: {exc}'
    scheme = str(http.get("scheme") or "HTTP").lower()
    url = f"{scheme}://{http.get('host') or pod_ip}:{port}/{path.lstrip('/')}"
    headers = {h["name"]: h.get("value", "") for h in http.get("httpHeaders") or [] if h.get("name")}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                session.get(url, headers=headers, ssl=False) as answer:
            await answer.read()
        return ""
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return (f'HTTP lifecycle hook ({path}) for Container "{name}" in Pod "{where}" failed - error: '
                f'Get "{url}": {exc or "context deadline exceeded"}')
