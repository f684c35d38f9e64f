"""Environment and security context inside a real container: envFrom and valueFrom from a
ConfigMap and a Secret, a resourceFieldRef, the user/groups/capabilities/no_new_privs the process
really has, and a container waiting in CreateContainerConfigError until its ConfigMap exists."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors
from tests.integration.conftest import APIServerProcess, Kubectl
from tests.integration.kubelet_node import kubelet_node, pod
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually

pytestmark = pytest.mark.integration
OBJECTS = ((catalog.CONFIGMAPS, "env-config"), (catalog.SECRETS, "env-secret"), (catalog.CONFIGMAPS, "late"))


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> AsyncIterator[Client]:  # noqa: F811
    image = f"{containerd.registry}/busybox:test"
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        for res, name in OBJECTS:
            with contextlib.suppress(errors.NotFound):  # left by the previous test
                await client.delete(res, name, "default")
        await client.create(catalog.CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap",
                                                 "metadata": {"name": "env-config", "namespace": "default"},
                                                 "data": {"MODE": "fast", "LEVEL": "3"}}, "default")
        await client.create(catalog.SECRETS, {"apiVersion": "v1", "kind": "Secret",
                                              "metadata": {"name": "env-secret", "namespace": "default"},
                                              "data": {"password": "czNjcjN0"}}, "default")
        env_pod = pod("envs", "", image, ["/bin/sleep", "3600"],
                      envFrom=[{"configMapRef": {"name": "env-config"}, "prefix": "APP_"}],
                      env=[{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "env-secret",
                                                                               "key": "password"}}},
                           {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                                 "divisor": "1Mi"}}},
                           {"name": "DSN", "value": "db://$(PASSWORD)@$(APP_MODE)"}],
                      resources={"limits": {"memory": "64Mi"}},
                      securityContext={"runAsUser": 1000, "allowPrivilegeEscalation": False,
                                       "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
        env_pod["spec"]["securityContext"] = {"runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [4000]}
        late = pod("late", "", image, ["/bin/sleep", "3600"],
                   env=[{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "late", "key": "k"}}}])
        async with kubelet_node(containerd, apiserver, tmp_path, "kt-env", [env_pod, late], running=("envs",)):
            yield client


async def sh(kubectl: Kubectl, script: str) -> str:
    out = await asyncio.to_thread(kubectl, 33, "exec", "envs", "--", "sh", "-c", script)
    assert out.returncode == 0, out.stderr
    return str(out.stdout)


async def test_the_process_gets_its_environment_and_security_context(node: Client, kubectl: Kubectl) -> None:
    env = dict(line.split("=", 1) for line in (await sh(kubectl, "env")).splitlines() if "=" in line)
    assert (env["APP_MODE"], env["APP_LEVEL"], env["PASSWORD"]) == ("fast", "3", "s3cr3t")
    assert env["MEM_MI"] == "64"
    assert env["DSN"] == "db://s3cr3t@fast"
    assert (await sh(kubectl, "id -u; id -g")).split() == ["1000", "3000"]
    assert set((await sh(kubectl, "id -G")).split()) == {"3000", "2000", "4000"}
    status = dict(line.split(":\t", 1) for line in (await sh(kubectl, "cat /proc/self/status")).splitlines()
                  if ":\t" in line)
    assert status["NoNewPrivs"].strip() == "1"
    assert int(status["CapBnd"], 16) == 1 << 10  # CAP_NET_BIND_SERVICE only


async def test_a_missing_configmap_is_create_container_config_error_until_it_exists(node: Client) -> None:
    async def waiting() -> dict[str, str] | None:
        got = await node.get(catalog.PODS, "late", "default")
        statuses = (got.get("status") or {}).get("containerStatuses") or []
        state = statuses[0]["state"].get("waiting") if statuses else None
        return state if state and state.get("reason") == "CreateContainerConfigError" else None
    state = await eventually(waiting, timeout=30, what="CreateContainerConfigError")
    assert state["message"] == 'configmap "late" not found'
    await node.create(catalog.CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap",
                                           "metadata": {"name": "late", "namespace": "default"},
                                           "data": {"k": "v"}}, "default")

    async def running() -> bool:
        got = await node.get(catalog.PODS, "late", "default")
        return (got.get("status") or {}).get("phase") == "Running"
    await eventually(running, timeout=40, what="late Running once its ConfigMap exists")
