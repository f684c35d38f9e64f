"""`--authorization-mode=RBAC` on a real kube-apiserver, driven by real kubectl 1.27 and 1.33
as an admin (system:masters) and as users with client certificates from the server's CA."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors, meta
from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert
from tests.integration.components import WAIT, Component
from tests.integration.conftest import APIServerProcess, EtcdServer, kubectl_path, service_account_key_flags
from tests.support import eventually

pytestmark = pytest.mark.integration
VERSIONS = ["1.27", "1.33"]


@pytest.fixture(scope="module")
def rbac_server(etcd_server: EtcdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServerProcess]:
    workdir = tmp_path_factory.mktemp("rbac-apiserver")
    # its own etcd prefix: the session's AlwaysAllow server shares this etcd
    server = APIServerProcess(etcd_server.url, workdir, extra_args=(
        "--authorization-mode=RBAC", f"--etcd-prefix=/rbac-{uuid.uuid4().hex[:8]}",
        *service_account_key_flags(workdir)))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Cluster:
    """kubectl as the admin or as any user whose certificate the server's CA issues."""

    def __init__(self, server: APIServerProcess, root: Path) -> None:
        self.server, self.root = server, root

    def kubeconfig(self, user: str, groups: tuple[str, ...] = ()) -> Path:
        path = self.root / f"{user}.kubeconfig"
        if path.exists():
            return path
        ca, _ = load_or_create_ca(self.server.pki_dir)
        ensure_cert(self.server.pki_dir, CertSpec(user, user, groups), ca)
        admin = self.server.kubeconfig.read_text()
        for mine, theirs in zip((self.server.pki_dir / f"{user}.crt", self.server.pki_dir / f"{user}.key"),
                                self.server.admin_credentials(), strict=True):
            admin = admin.replace(base64.b64encode(theirs.read_bytes()).decode(),
                                  base64.b64encode(mine.read_bytes()).decode())
        path.write_text(admin)
        return path

    def token_kubeconfig(self, name: str, token: str) -> Path:
        """A kubeconfig with only a bearer token (a client certificate would win over it)."""
        path = self.root / f"{name}.kubeconfig"
        ca = base64.b64encode(self.server.ca_file.read_bytes()).decode()
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": self.server.url, "certificate-authority-data": ca}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": name}}],
            "users": [{"name": name, "user": {"token": token}}]}))
        return path

    def run(self, version: str, *args: str, user: str = "", input: str = "") -> subprocess.CompletedProcess[str]:
        """kubectl as the admin, as `user` (a client certificate), or as `user`'s kubeconfig
        file when one was written (`token_kubeconfig`)."""
        config = self.kubeconfig(user) if user else self.server.kubeconfig
        cache = self.root / f"cache-{user or 'admin'}-{version}"
        return subprocess.run([str(kubectl_path(version)), "--kubeconfig", str(config), "--cache-dir",
                               str(cache), *args], input=input, capture_output=True, text=True, timeout=60)

    def admin(self, *args: str, input: str = "") -> str:
        out = self.run("1.33", *args, input=input)
        assert out.returncode == 0, out.stderr
        return out.stdout


@pytest.fixture(scope="module")
def cluster(rbac_server: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    return Cluster(rbac_server, tmp_path_factory.mktemp("rbac-users"))


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ns(cluster: Cluster) -> str:
    name = f"rbac-{uuid.uuid4().hex[:6]}"
    cluster.admin("create", "namespace", name)
    return name


def test_the_bootstrap_policy_exists(cluster: Cluster) -> None:
    roles = cluster.admin("get", "clusterroles", "-o", "name").split()
    for name in ("cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
                 "system:public-info-viewer", "system:node", "system:node-proxier", "system:kube-scheduler",
                 "system:kube-controller-manager", "system:controller:deployment-controller",
                 "system:auth-delegator", "system:monitoring"):
        assert f"clusterrole.rbac.authorization.k8s.io/{name}" in roles
    admin = json.loads(cluster.admin("get", "clusterrole", "cluster-admin", "-o", "json"))
    assert admin["metadata"]["labels"] == {"kubernetes.io/bootstrapping": "rbac-defaults"}
    assert admin["metadata"]["annotations"] == {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    header = cluster.admin("get", "clusterroles").splitlines()[0].split()
    assert header == ["NAME", "CREATED", "AT"]
    rows = cluster.admin("get", "rolebindings", "-n", "kube-system").splitlines()
    assert rows[0].split() == ["NAME", "ROLE", "AGE"]
    assert any(r.split()[:2] == ["system::leader-locking-kube-scheduler",
                                 "Role/system::leader-locking-kube-scheduler"] for r in rows)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_user_without_bindings_is_forbidden(cluster: Cluster, version: str) -> None:
    out = cluster.run(version, "get", "pods", user="nobody")
    assert out.returncode == 1
    assert out.stderr.strip() == ('Error from server (Forbidden): pods is forbidden: User "nobody" cannot list '
                                  'resource "pods" in API group "" in the namespace "default"')
    no = cluster.run(version, "auth", "can-i", "list", "pods", user="nobody")
    assert (no.returncode, no.stdout.strip()) == (1, "no")
    who = cluster.run(version, "auth", "whoami", user="nobody")
    assert who.returncode == 0, who.stderr
    assert who.stdout.splitlines()[1].split() == ["Username", "nobody"]
    assert who.stdout.splitlines()[2].split() == ["Groups", "[system:authenticated]"]


async def test_a_role_binding_allows_exactly_what_it_binds(cluster: Cluster, ns: str, version: str) -> None:
    user = f"jane-{version.replace('.', '')}"
    cluster.admin("create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods", "-n", ns)
    cluster.admin("create", "rolebinding", "reads", "--role=pod-reader", f"--user={user}", "-n", ns)

    def can(*args: str) -> subprocess.CompletedProcess[str]:
        return cluster.run(version, "auth", "can-i", *args, user=user)

    yes = await eventually(lambda: can("list", "pods", "-n", ns).returncode == 0, 10, "the binding in effect")
    assert yes
    assert can("list", "pods", "-n", ns).stdout.strip() == "yes"
    for args in (("delete", "pods", "-n", ns), ("list", "pods", "-n", "default"),
                 ("get", "pods", "--subresource=log", "-n", ns), ("list", "secrets", "-n", ns),
                 ("list", "pods", "-A")):
        out = can(*args)
        assert (out.returncode, out.stdout.strip()) == (1, "no"), args
    listed = cluster.run(version, "get", "pods", "-n", ns, user=user)
    assert listed.returncode == 0 and "No resources found" in listed.stderr
    denied = cluster.run(version, "delete", "pod", "web", "-n", ns, user=user)
    assert denied.stderr.strip() == (f'Error from server (Forbidden): pods "web" is forbidden: User "{user}" '
                                     f'cannot delete resource "pods" in API group "" in the namespace "{ns}"')

    rules = can("--list", "-n", ns)
    assert rules.returncode == 0, rules.stderr
    lines = [line.split() for line in rules.stdout.splitlines()]
    assert lines[0] == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in lines
    assert ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"] in lines
    assert ["[/healthz]", "[]", "[get]"] in lines
    assert not any(line[0] == "secrets" for line in lines)


def _get(server: APIServerProcess, path: str) -> tuple[int, Any]:
    ctx = ssl.create_default_context(cafile=str(server.ca_file))  # no client certificate: anonymous
    try:
        with urllib.request.urlopen(f"{server.url}{path}", context=ctx, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_anonymous_reads_health_only(rbac_server: APIServerProcess) -> None:
    assert _get(rbac_server, "/healthz") == (200, "ok")
    code, body = _get(rbac_server, "/api/v1/pods")
    assert (code, body["message"]) == (401, "Unauthorized")


async def test_roles_and_bindings_cannot_escalate(cluster: Cluster, ns: str, version: str) -> None:
    user = f"writer-{version.replace('.', '')}"
    cluster.admin("create", "role", "writer", "--verb=create,update,get", "--resource=roles,rolebindings",
                  "-n", ns)
    cluster.admin("create", "rolebinding", "writes", "--role=writer", f"--user={user}", "-n", ns)
    cluster.admin("create", "role", "deleter", "--verb=delete", "--resource=pods", "-n", ns)

    def as_user(*args: str) -> subprocess.CompletedProcess[str]:
        return cluster.run(version, *args, "-n", ns, user=user)

    await eventually(lambda: as_user("auth", "can-i", "create", "roles").returncode == 0, 10,
                     "the writer's binding in effect")
    ok = as_user("create", "role", "sub", "--verb=get", "--resource=roles")
    assert ok.returncode == 0, ok.stderr
    more = as_user("create", "role", "more", "--verb=delete,get", "--resource=deployments")
    assert more.returncode == 1
    assert more.stderr.strip() == (
        f'Error from server (Forbidden): roles.rbac.authorization.k8s.io "more" is forbidden: user "{user}" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:["apps"], Resources:["deployments"], Verbs:["delete" "get"]}')
    bind = as_user("create", "rolebinding", "to-deleter", "--role=deleter", "--user=bob")
    assert bind.returncode == 1
    assert 'rolebindings.rbac.authorization.k8s.io "to-deleter" is forbidden' in bind.stderr
    assert '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}' in bind.stderr
    same = as_user("create", "rolebinding", "to-writer", "--role=writer", "--user=bob")
    assert same.returncode == 0, same.stderr


def test_role_ref_is_immutable_and_cluster_role_bindings_print(cluster: Cluster, version: str) -> None:
    name = f"crb-{uuid.uuid4().hex[:6]}"
    for args in (("clusterrole", name, "--verb=get,list", "--resource=nodes"),
                 ("clusterrolebinding", name, "--clusterrole=view", "--group=viewers")):
        made = cluster.run(version, "create", *args)
        assert made.returncode == 0, made.stderr
    role = json.loads(cluster.admin("get", "clusterrole", name, "-o", "json"))
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]
    row = cluster.run(version, "get", "clusterrolebinding", name).stdout.splitlines()
    assert row[0].split() == ["NAME", "ROLE", "AGE"] and row[1].split()[:2] == [name, "ClusterRole/view"]
    out = cluster.run(version, "patch", "clusterrolebinding", name, "--type=merge",
                      "-p", '{"roleRef":{"name":"edit"}}')
    assert out.returncode == 1
    assert (f'The ClusterRoleBinding "{name}" is invalid: roleRef: Invalid value: rbac.RoleRef{{APIGroup:'
            '"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef') in out.stderr


def test_bootstrap_reconcile_respects_autoupdate_false(cluster: Cluster, rbac_server: APIServerProcess) -> None:
    monitoring = json.loads(cluster.admin("get", "clusterrole", "system:monitoring", "-o", "json"))
    monitoring["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = "false"
    monitoring["rules"] = [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]
    cluster.admin("replace", "-f", "-", input=json.dumps(monitoring))
    view = json.loads(cluster.admin("get", "clusterrole", "system:discovery", "-o", "json"))
    view["rules"] = [{"verbs": ["get"], "nonResourceURLs": ["/api"]}]  # the admin trimmed it
    cluster.admin("replace", "-f", "-", input=json.dumps(view))
    rbac_server.restart()
    kept = json.loads(cluster.admin("get", "clusterrole", "system:monitoring", "-o", "json"))
    assert kept["rules"] == [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]
    restored = json.loads(cluster.admin("get", "clusterrole", "system:discovery", "-o", "json"))
    # the default rules come back as the atoms not covered; what the admin added stays
    assert restored["rules"][0] == {"verbs": ["get"], "nonResourceURLs": ["/api"]}
    assert {"verbs": ["get"], "nonResourceURLs": ["/api/*"]} in restored["rules"]
    assert len(restored["rules"]) == 11  # /api plus the ten default URLs it did not cover


def _create(cluster: Cluster, obj: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return cluster.run("1.33", "create", "-f", "-", "-o", "json", *args, input=json.dumps(obj))


def test_access_reviews_answer_for_the_named_user(cluster: Cluster) -> None:
    sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
        "user": "system:kube-scheduler",
        "resourceAttributes": {"verb": "create", "resource": "pods", "subresource": "binding",
                               "namespace": "default"}}}
    out = _create(cluster, sar)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == {"allowed": True, "reason": (
        'RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" '
        'to User "system:kube-scheduler"')}
    sar["spec"]["resourceAttributes"]["verb"] = "delete"
    sar["spec"]["resourceAttributes"]["resource"] = "nodes"
    assert json.loads(_create(cluster, sar).stdout)["status"] == {"allowed": False}
    local = {"apiVersion": "authorization.k8s.io/v1", "kind": "LocalSubjectAccessReview",
             "metadata": {"namespace": "kube-system"},
             "spec": {"groups": ["system:masters"], "resourceAttributes": {"verb": "get", "resource": "secrets"}}}
    out = _create(cluster, local)
    assert json.loads(out.stdout)["status"] == {"allowed": True}
    listed = cluster.run("1.33", "get", "subjectaccessreviews")
    assert "the server does not allow this method on the requested resource" in listed.stderr


async def test_service_account_tokens_review_and_bind(cluster: Cluster, ns: str, version: str) -> None:
    cluster.admin("create", "serviceaccount", "builder", "-n", ns)
    token = cluster.admin("create", "token", "builder", "-n", ns).strip()
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    status = json.loads(_create(cluster, review).stdout)["status"]
    assert status["authenticated"] is True
    assert status["user"]["username"] == f"system:serviceaccount:{ns}:builder"
    assert {"system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"} <= set(
        status["user"]["groups"])
    review["spec"]["audiences"] = ["vault"]
    status = json.loads(_create(cluster, review).stdout)["status"]
    assert status["authenticated"] is False and "is invalid for the target audiences" in status["error"]

    name = f"sa-{ns}-{version}"
    cluster.token_kubeconfig(name, token)

    def can(*args: str) -> subprocess.CompletedProcess[str]:
        return cluster.run(version, "auth", "can-i", *args, "-n", ns, user=name)

    assert can("list", "configmaps").returncode == 1
    cluster.admin("create", "role", "cm-reader", "--verb=list", "--resource=configmaps", "-n", ns)
    cluster.admin("create", "rolebinding", "builder-reads", "--role=cm-reader",
                  f"--serviceaccount={ns}:builder", "-n", ns)
    await eventually(lambda: can("list", "configmaps").returncode == 0, 10, "the role via the SA subject")
    assert can("list", "secrets").returncode == 1


def test_token_review_needs_a_token_and_refuses_unknown_ones(cluster: Cluster) -> None:
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": ""}}
    out = _create(cluster, review)
    assert out.returncode == 1 and "token is required for TokenReview in authentication" in out.stderr
    review["spec"]["token"] = "not-a-token"
    status = json.loads(_create(cluster, review).stdout)["status"]
    assert status["authenticated"] is False and status["user"] == {}


KINDS = ((catalog.CONFIGMAPS, {"data": {"k": "v"}}), (catalog.SECRETS, {"stringData": {"k": "v"}}),
         (catalog.SERVICEACCOUNTS, {}), (catalog.ENDPOINTS, {}), (catalog.LEASES, {"spec": {}}),
         (catalog.ROLES, {"rules": []}),
         (catalog.ROLEBINDINGS, {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                                 "subjects": [{"kind": "User", "name": "u"}]}),
         (catalog.SERVICES, {"spec": {"ports": [{"port": 80}]}}),
         (catalog.REPLICASETS, {"spec": {"replicas": 0, "selector": {"matchLabels": {"a": "b"}}, "template": {
             "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
         (catalog.PODS, {"spec": {"terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": "x"}]}}))


async def fill(client: Client, ns: str, each: int) -> None:
    for res, body in KINDS:
        await asyncio.gather(*(client.create(res, {"apiVersion": res.group_version, "kind": res.kind,
                                                   "metadata": {"name": f"o{i}"}, **body}, ns)
                               for i in range(each)))


async def test_the_control_plane_works_under_its_own_names(cluster: Cluster, tmp_path: Path) -> None:
    """kube-controller-manager as system:kube-controller-manager and kube-scheduler as
    system:kube-scheduler: the bootstrap policy must let every controller we run do its work."""
    kcm = Component("lab.kube.controllers.main", [
        "--kubeconfig", str(cluster.kubeconfig("system:kube-controller-manager")), "--allocate-node-cidrs=true",
        "--cluster-cidr", "10.244.0.0/16", "--node-cidr-mask-size", "24",
        "--service-cluster-ip-range", "10.96.0.0/12", "--controllers=*", "--leader-elect=true"], tmp_path)
    scheduler = Component("lab.kube.scheduler.main", [
        "--kubeconfig", str(cluster.kubeconfig("system:kube-scheduler")), "--leader-elect=true"], tmp_path)
    ns = f"cp-{uuid.uuid4().hex[:6]}"
    try:
        async with Client(load_kubeconfig(cluster.server.kubeconfig)) as client:
            await client.create(catalog.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": ns}})
            node = await client.create(catalog.NODES, {"apiVersion": "v1", "kind": "Node",
                                                       "metadata": {"name": f"{ns}-w1"}})
            await client.update(catalog.NODES, {**node, "status": {
                "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}]}},
                subresource="status")
            labels = {"app": ns}
            await client.create(catalog.DEPLOYMENTS, {
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "registry.local/web:1"}]}}}}, ns)
            await client.create(catalog.SERVICES, {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}}, ns)

            async def bound() -> list[dict[str, Any]] | None:
                pods = (await client.list(catalog.PODS, ns))["items"]
                return pods if len(pods) == 2 and all(p["spec"].get("nodeName") for p in pods) else None

            await eventually(bound, WAIT, "the deployment's pods, created and scheduled")
            await eventually(lambda: client.get(catalog.ENDPOINTS, "web", ns), WAIT, "the service's endpoints")

            async def slices() -> list[dict[str, Any]]:
                return list((await client.list(catalog.ENDPOINTSLICES, ns))["items"])

            await eventually(slices, WAIT, "the service's endpoint slice")

            async def cidr() -> str:
                return str((await client.get(catalog.NODES, f"{ns}-w1"))["spec"].get("podCIDR") or "")

            await eventually(cidr, WAIT, "a pod CIDR from nodeipam")

            async def admin_rules() -> list[dict[str, Any]]:
                return list((await client.get(catalog.CLUSTERROLES, "admin")).get("rules") or [])

            await eventually(admin_rules, WAIT, "admin aggregated by the controller manager")
            await client.delete(catalog.DEPLOYMENTS, "web", ns)

            async def collected() -> bool:
                return not (await client.list(catalog.REPLICASETS, ns))["items"]

            await eventually(collected, WAIT, "the garbage collector removes the replica set")

            # kubectl cordon: the node lifecycle controller's NoSchedule taint, under the KCM's name
            await client.patch(catalog.NODES, f"{ns}-w1", {"spec": {"unschedulable": True}})

            async def cordon_taint() -> list[dict[str, Any]] | None:
                taints = (await client.get(catalog.NODES, f"{ns}-w1"))["spec"].get("taints") or []
                return taints if any(t["key"] == "node.kubernetes.io/unschedulable" for t in taints) else None
            [taint] = await eventually(cordon_taint, WAIT, "the unschedulable taint")
            assert taint["effect"] == "NoSchedule" and taint["timeAdded"]

            # 500 objects of 10 kinds, then the namespace: the namespace controller empties it and lets it go
            await fill(client, ns, each=50)
            await client.delete(catalog.NAMESPACES, ns)

            async def content_remaining() -> str | None:
                got = await client.get(catalog.NAMESPACES, ns)
                conds = {c["type"]: c for c in got["status"].get("conditions") or []}
                remaining = conds.get("NamespaceContentRemaining") or {}
                return remaining.get("message") if remaining.get("status") == "True" else None
            # the web pods sit on a node with no kubelet: terminating, as upstream, until their node's kubelet
            # (here the test) finishes them
            message = await eventually(content_remaining, 60, "the namespace reporting what remains")
            assert message == "Some resources are remaining: pods. has 2 resource instances", message
            for pod in (await client.list(catalog.PODS, ns))["items"]:
                await client.delete(catalog.PODS, pod["metadata"]["name"], ns, grace_period_seconds=0)

            async def namespace_gone() -> bool:
                try:
                    await client.get(catalog.NAMESPACES, ns)
                except errors.NotFound:
                    return True
                return False
            await eventually(namespace_gone, 60, "the namespace and its 500 objects deleted")
    finally:
        codes = (kcm.stop(), scheduler.stop())
    logs = kcm.log.read_text() + scheduler.log.read_text()
    # refused for want of a permission, that is: events in the namespace being deleted are refused by design
    denied = [line for line in logs.splitlines() if "forbidden" in line.lower() and "being terminated" not in line]
    assert not denied, "\n".join(denied[-20:])
    assert codes == (0, 0)


async def test_a_silent_node_goes_unknown_tainted_its_pods_evicted_and_comes_back(
        cluster: Cluster, tmp_path: Path) -> None:
    """The node lifecycle and taint-eviction controllers under the KCM's own name, with short
    upstream flags; a second node keeps beating, as a lone silent node would be a disruption
    of the whole zone, where upstream taints nothing NoExecute."""
    kcm = Component("lab.kube.controllers.main", [
        "--kubeconfig", str(cluster.kubeconfig("system:kube-controller-manager")),
        "--controllers=nodelifecycle,taint-eviction-controller",
        "--node-monitor-period=1s", "--node-monitor-grace-period=3s", "--leader-elect=false"], tmp_path)
    quiet, alive = f"quiet-{uuid.uuid4().hex[:6]}", f"alive-{uuid.uuid4().hex[:6]}"

    def conditions(ready: str, heartbeat: str) -> list[dict[str, Any]]:
        return [{"type": t, "status": s, "reason": "KubeletReady", "message": "ok", "lastHeartbeatTime": heartbeat,
                 "lastTransitionTime": heartbeat}
                for t, s in (("Ready", ready), ("MemoryPressure", "False"), ("DiskPressure", "False"),
                             ("PIDPressure", "False"))]

    async def beat(client: Client, name: str) -> None:
        node = await client.get(catalog.NODES, name)
        await client.update(catalog.NODES, {**node, "status": {"conditions": conditions("True", meta.now())}},
                            subresource="status")

    beating_nodes = {alive}

    async def keep_beating(client: Client) -> None:
        for _ in range(240):  # bounded: two minutes at most
            for name in sorted(beating_nodes):
                await beat(client, name)
            await asyncio.sleep(0.5)

    def pod(name: str, seconds: int | None) -> dict[str, Any]:
        spec: dict[str, Any] = {"nodeName": quiet, "containers": [{"name": "c", "image": "x"}]}
        if seconds is not None:
            spec["tolerations"] = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                    "effect": "NoExecute", "tolerationSeconds": seconds}]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}

    try:
        async with Client(load_kubeconfig(cluster.server.kubeconfig)) as client:
            for name in (quiet, alive):
                await client.create(catalog.NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
                await beat(client, name)
            brief = await client.create(catalog.PODS, pod(f"{quiet}-brief", 1), "default")
            patient = await client.create(catalog.PODS, pod(f"{quiet}-patient", None), "default")
            assert [t["tolerationSeconds"] for t in patient["spec"]["tolerations"]] == [300, 300]  # admission's
            for p in (brief, patient):
                await client.patch(catalog.PODS, meta.name(p), {"status": {"phase": "Running", "conditions": [
                    {"type": "Ready", "status": "True"}]}}, "default", subresource="status")
            beating = asyncio.create_task(keep_beating(client))

            async def state() -> tuple[str, list[str], str]:
                n = await client.get(catalog.NODES, quiet)
                ready = {c["type"]: c for c in n["status"]["conditions"]}["Ready"]
                taints = sorted(f"{t['key']}:{t['effect']}" for t in (n.get("spec") or {}).get("taints") or [])
                p = await client.get(catalog.PODS, meta.name(patient), "default")
                return ready["status"], taints, {c["type"]: c["status"] for c in p["status"]["conditions"]}["Ready"]

            async def unknown() -> tuple[str, list[str], str] | None:
                s = await state()
                return s if s[0] == "Unknown" and len(s[1]) == 2 and s[2] == "False" else None
            assert await eventually(unknown, 20, "the node Unknown, tainted, its pod unready") == (
                "Unknown", ["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"],
                "False")
            got = await client.get(catalog.NODES, quiet)
            ready = {c["type"]: c for c in got["status"]["conditions"]}["Ready"]
            assert (ready["reason"], ready["message"]) == ("NodeStatusUnknown", "Kubelet stopped posting node status.")

            async def evicted() -> dict[str, Any] | None:
                p = await client.get(catalog.PODS, meta.name(brief), "default")
                return p if p["metadata"].get("deletionTimestamp") else None
            gone = await eventually(evicted, 20, "the pod tolerating 1 s deleted")
            target = {c["type"]: c for c in gone["status"]["conditions"]}["DisruptionTarget"]
            assert target["reason"] == "DeletionByTaintManager"
            assert not (await client.get(catalog.PODS, meta.name(patient), "default"))["metadata"].get(
                "deletionTimestamp")  # 300 s to go

            beating_nodes.add(quiet)  # the kubelet is back

            async def back() -> bool:
                s = await state()
                return s[0] == "True" and s[1] == []
            await eventually(back, 20, "the node Ready again without taints")
            beating.cancel()
            for p in (brief, patient):
                await client.delete(catalog.PODS, meta.name(p), "default", grace_period_seconds=0)
            for name in (quiet, alive):
                await client.delete(catalog.NODES, name)
    finally:
        code = kcm.stop()
    logs = kcm.log.read_text()
    assert "forbidden" not in logs.lower(), logs[-3000:]
    assert code == 0


async def test_kubectl_create_job_runs_to_complete_and_a_failing_one_hits_its_backoff_limit(
        cluster: Cluster, ns: str, version: str, tmp_path: Path) -> None:
    """The job controller under the KCM's own name; the test plays the kubelet, finishing pods."""
    kcm = Component("lab.kube.controllers.main", [
        "--kubeconfig", str(cluster.kubeconfig("system:kube-controller-manager")), "--controllers=job",
        "--leader-elect=false"], tmp_path)
    try:
        # kubectl 1.33 sends the Job as protobuf
        assert cluster.run(version, "-n", ns, "create", "job", "pi", "--image=registry.local/web:1", "--",
                           "/bin/true").returncode == 0
        failing = cluster.run(version, "-n", ns, "create", "job", "doomed", "--image=registry.local/web:1",
                              "--dry-run=client", "-o", "json").stdout
        body = json.loads(failing)
        body["spec"]["backoffLimit"] = 1
        assert cluster.run(version, "-n", ns, "create", "-f", "-", input=json.dumps(body)).returncode == 0
        async with Client(load_kubeconfig(cluster.server.kubeconfig)) as client:
            async def pods_of(job: str, count: int) -> list[dict[str, Any]] | None:
                pods = [p for p in (await client.list(catalog.PODS, ns))["items"]
                        if p["metadata"]["labels"].get("job-name") == job]
                return pods if len(pods) == count else None

            async def finish(pod: dict[str, Any], phase: str) -> None:
                await client.patch(catalog.PODS, meta.name(pod), {"status": {"phase": phase}}, ns,
                                   subresource="status")

            [pi] = await eventually(lambda: pods_of("pi", 1), WAIT, "the job's pod")
            assert pi["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"]
            await finish(pi, "Succeeded")
            waited = cluster.run(version, "-n", ns, "wait", "--for=condition=complete", "job/pi", "--timeout=30s")
            assert waited.returncode == 0, waited.stderr
            table = cluster.admin("-n", ns, "get", "jobs", "pi")
            header, row = table.splitlines()[:2]
            assert header.split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], table
            assert row.split()[:3] == ["pi", "Complete", "1/1"], table
            assert cluster.run(version, "-n", ns, "describe", "job", "pi").returncode == 0

            [first] = await eventually(lambda: pods_of("doomed", 1), WAIT, "the failing job's pod")
            await finish(first, "Failed")
            # the replacement waits out the 10 s back-off
            pods = await eventually(lambda: pods_of("doomed", 2), 30, "the replacement pod")
            await finish(next(p for p in pods if meta.uid(p) != meta.uid(first)), "Failed")

            async def failed() -> dict[str, Any] | None:
                job = await client.get(catalog.JOBS, "doomed", ns)
                conds = {c["type"]: c for c in job["status"].get("conditions") or []}
                return job if conds.get("Failed", {}).get("status") == "True" else None
            job = await eventually(failed, WAIT, "the job Failed")
            cond = {c["type"]: c for c in job["status"]["conditions"]}["Failed"]
            assert cond["reason"] == "BackoffLimitExceeded" and job["status"]["failed"] == 2
            row = cluster.admin("-n", ns, "get", "jobs", "doomed", "--no-headers").split()
            assert row[:3] == ["doomed", "Failed", "0/1"], row
    finally:
        code = kcm.stop()
    logs = kcm.log.read_text()
    assert "forbidden" not in logs.lower(), logs[-3000:]
    assert code == 0
