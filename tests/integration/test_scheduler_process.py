"""kube-scheduler as a process with a KubeSchedulerConfiguration: an unfit pod is told why
(condition + Event, as `kubectl describe` shows), fits once its node grows, and a second
profile schedules the pods that name it. Its secure port (HTTPS) answers health to anyone
and /metrics only to authorized callers.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors
from lab.pki.authority import create_ca
from lab.pki.certs import CertSpec, issue
from tests.integration.components import WAIT, Component
from tests.integration.conftest import APIServerProcess
from tests.support import eventually

pytestmark = pytest.mark.integration
Obj = dict[str, Any]

CONFIG = """\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
- schedulerName: packing-scheduler
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
"""


def _pod(name: str, zone: str, cpu: str, scheduler: str = "default-scheduler") -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"schedulerName": scheduler, "nodeSelector": {"lab.example/zone": zone},
                     "containers": [{"name": "c", "image": "registry.local/pause:1",
                                     "resources": {"requests": {"cpu": cpu}}}]}}


async def test_unfit_pod_is_explained_then_scheduled(apiserver: APIServerProcess, kubectl: Any,
                                                     tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:6]
    ns, node, zone = f"sched-{suffix}", f"n-{suffix}", f"z-{suffix}"
    config = tmp_path / "scheduler.yaml"
    config.write_text(CONFIG)
    scheduler = Component("lab.kube.scheduler.main",
                          ["--kubeconfig", str(apiserver.kubeconfig), "--config", str(config)], tmp_path)
    async with Client(load_kubeconfig(apiserver.kubeconfig)) as client:
        try:
            await client.create(catalog.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": ns}})
            await client.create(catalog.NODES, {"apiVersion": "v1", "kind": "Node",
                                                "metadata": {"name": node, "labels": {"lab.example/zone": zone}}})
            await client.patch(catalog.NODES, node, {"status": {"allocatable": {"cpu": "1", "memory": "2Gi",
                                                                                "pods": "10"}}},
                               subresource="status")
            await client.create(catalog.PODS, _pod("big", zone, "4"), ns)

            async def unschedulable() -> Obj | None:
                pod = await client.get(catalog.PODS, "big", ns)
                conds = [c for c in (pod.get("status") or {}).get("conditions") or []
                         if c["type"] == "PodScheduled"]
                return conds[0] if conds and conds[0]["status"] == "False" else None
            cond = await eventually(unschedulable, timeout=WAIT, what="PodScheduled=False")
            assert cond["reason"] == "Unschedulable"
            assert re.match(r"0/\d+ nodes are available: .*1 Insufficient cpu", cond["message"]), cond["message"]

            described = await asyncio.to_thread(kubectl, "1.33", "-n", ns, "describe", "pod", "big")
            assert "FailedScheduling" in described.stdout and "Insufficient cpu" in described.stdout

            # the node grows (a NodeUpdate event): the waiting pod is retried and bound
            await client.patch(catalog.NODES, node, {"status": {"allocatable": {"cpu": "8"}}}, subresource="status")

            async def bound(name: str) -> str:
                return str((await client.get(catalog.PODS, name, ns))["spec"].get("nodeName") or "")
            assert await eventually(lambda: bound("big"), timeout=WAIT, what="big bound") == node

            # a pod naming the second profile is scheduled by it
            await client.create(catalog.PODS, _pod("packed", zone, "100m", "packing-scheduler"), ns)
            assert await eventually(lambda: bound("packed"), timeout=WAIT, what="packed bound") == node
            async def scheduled_event() -> bool:  # recorded just after the binding, asynchronously
                events = (await client.list(catalog.EVENTS, ns))["items"]
                return any(e["reason"] == "Scheduled" and e["involvedObject"]["name"] == "packed" for e in events)
            await eventually(scheduled_event, timeout=WAIT, what="Scheduled event")
        finally:
            code = scheduler.stop()
            print(scheduler.tail())
            for name in ("big", "packed"):
                try:
                    await client.delete(catalog.PODS, name, ns, grace_period_seconds=0)
                except errors.APIError:
                    pass
            for res, name, namespace in ((catalog.NODES, node, None), (catalog.NAMESPACES, ns, None)):
                try:
                    await client.delete(res, name, namespace)
                except errors.APIError:
                    pass
        assert code == 0


def _https_get(port: int, path: str, cert: tuple[Path, Path] | None = None) -> tuple[int, str]:
    """GET over TLS without checking the self-signed serving cert, presenting `cert` if given."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", timeout=5, context=ctx) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def test_secure_port_serves_health_to_anyone_and_metrics_only_to_the_authorized(
        apiserver: APIServerProcess, tmp_path: Path) -> None:
    client_ca = apiserver.pki_dir / "ca.crt"
    admin = apiserver.admin_credentials()  # O=system:masters: always allowed, no review needed
    scheduler = Component("lab.kube.scheduler.main",
                          ["--kubeconfig", str(apiserver.kubeconfig), "--leader-elect=false",
                           "--client-ca-file", str(client_ca), "--cert-dir", str(tmp_path / "certs")], tmp_path)
    try:
        await eventually(lambda: asyncio.to_thread(scheduler.healthz), timeout=WAIT, what="https /healthz")
        assert await asyncio.to_thread(_https_get, scheduler.port, "/livez") == (200, "ok")
        assert (tmp_path / "certs/kube-scheduler.crt").exists()  # self-signed, kept in --cert-dir

        status, body = await asyncio.to_thread(_https_get, scheduler.port, "/metrics", admin)
        assert status == 200 and "process_start_time_seconds" in body

        status, body = await asyncio.to_thread(_https_get, scheduler.port, "/metrics")
        async with Client(load_kubeconfig(apiserver.kubeconfig)) as client:
            try:
                await client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
                    "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                    "spec": {"user": "system:anonymous", "nonResourceAttributes": {"path": "/metrics", "verb": "get"}}})
                reviews = True
            except errors.NotFound:
                reviews = False  # the API server does not serve SubjectAccessReviews yet
        if reviews:
            assert status == 403, body
            assert json.loads(body)["message"] == 'forbidden: User "system:anonymous" cannot get path "/metrics"'
        else:  # no answer from the authorizer is never a yes
            assert status == 500 and body.startswith('Internal Server Error: "/metrics": '), body

        stranger_ca = create_ca("stranger-ca")
        cert, key = issue(stranger_ca, CertSpec("stranger", "mallory", ("system:masters",)))
        (tmp_path / "stranger.crt").write_bytes(cert)
        (tmp_path / "stranger.key").write_bytes(key)
        status, body = await asyncio.to_thread(_https_get, scheduler.port, "/healthz",
                                               (tmp_path / "stranger.crt", tmp_path / "stranger.key"))
        assert (status, json.loads(body)["reason"]) == (401, "Unauthorized")
    finally:
        code = scheduler.stop()
        print(scheduler.tail())
    assert code == 0
