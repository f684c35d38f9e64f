"""The lab is secured as a real cluster is, checked as a user would: anonymous requests to the
API server and to every kubelet are refused, etcd takes no client without a certificate, and a
namespaced user made with a certificate can do exactly what its Role grants, with real kubectl
1.27 and 1.33. (The walking-skeleton tour runs as the lab's admin in the same lab.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert
from lab.pki.kubeconfig import dump, kubeconfig
from tests.e2e.labdriver import STATE, Lab, kubectl_binary

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def control_plane(lab: Lab) -> str:
    return next(h.ip for name, h in lab.hosts.items() if name.startswith("cp"))


def workers(lab: Lab) -> list[str]:
    return [name for name in lab.hosts if name.startswith("w")]


def curl(lab: Lab, host: str, url: str, *extra: str) -> tuple[int, str]:
    """(HTTP status, body) of an anonymous request made on `host` (curl -k: no CA, no cert)."""
    out = lab.ssh(host, f"curl -sk -o /tmp/body -w '%{{http_code}}' {' '.join(extra)} {url}; echo; cat /tmp/body")
    status, _, body = out.partition("\n")
    return int(status), body


def test_anonymous_requests_to_the_api_server_are_refused(lab: Lab) -> None:
    api = f"https://{control_plane(lab)}:6443"
    for path in ("/api/v1/secrets", "/api/v1/namespaces/default/pods", "/apis/apps/v1/deployments",
                 "/api/v1/nodes/w1", "/metrics", "/apis/nope.example.com/v1/widgets"):
        status, body = curl(lab, "w1", api + path)
        assert (status, json.loads(body)) == (401, UNAUTHORIZED), path
    # a token nobody issued is refused the same way, never treated as anonymous
    status, body = curl(lab, "w1", api + "/api/v1/secrets", "-H", "'Authorization: Bearer not-a-token'")
    assert (status, json.loads(body)) == (401, UNAUTHORIZED)
    # what a load balancer probes stays open
    for path in ("/healthz", "/livez", "/readyz"):
        assert curl(lab, "w1", api + path) == (200, "ok"), path
    status, body = curl(lab, "w1", api + "/version")
    assert status == 200 and "gitVersion" in json.loads(body)


def test_anonymous_requests_to_every_kubelet_are_refused(lab: Lab) -> None:
    for name in workers(lab):
        ip = lab.hosts[name].ip
        for path in ("/pods", "/healthz"):
            status, body = curl(lab, "cp1", f"https://{ip}:10250{path}")
            assert (status, body.strip()) == (401, "Unauthorized"), (name, path)


def test_etcd_refuses_a_client_without_a_certificate(lab: Lab) -> None:
    plain = lab.ssh("cp1", "curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:2379/health; echo \" $?\"",
                    check=False)
    assert not plain.startswith("200"), plain  # no plaintext listener answers
    tls = lab.ssh("cp1", "curl -s -m 5 --cacert /etc/kubernetes/pki/etcd/ca.crt https://127.0.0.1:2379/health"
                         " -o /dev/null -w '%{http_code}'; echo \" $?\"", check=False)
    status, _, curl_exit = tls.strip().partition(" ")
    assert status != "200" and curl_exit != "0", tls  # the TLS handshake asks for a certificate
    # the API server, its only client, has one: etcd is healthy behind it
    assert lab.kubectl("get", "--raw", "/readyz?verbose").stdout.count("[+]etcd ok") == 1


@pytest.fixture(scope="module")
def jane(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user of the `dev` namespace: a client certificate (CN=jane) from the lab's cluster CA."""
    pki = tmp_path_factory.mktemp("jane")
    ca, created = load_or_create_ca(STATE / "pki")
    assert not created, "the lab's cluster CA must already exist"
    ensure_cert(pki, CertSpec("jane", "jane"), ca)
    server = yaml.safe_load(lab.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    doc = kubeconfig(server, ca.cert_pem, (pki / "jane.crt").read_bytes(), (pki / "jane.key").read_bytes(), "jane")
    path = pki / "jane.kubeconfig"
    path.write_bytes(dump(doc))
    lab.kubectl("create", "namespace", "dev")
    lab.kubectl("create", "role", "pod-reader", "-n", "dev", "--verb=get,list,watch", "--resource=pods")
    lab.kubectl("create", "rolebinding", "jane-reads-pods", "-n", "dev", "--role=pod-reader", "--user=jane")
    return path


def as_jane(jane: Path, minor: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([kubectl_binary(minor), "--kubeconfig", str(jane), *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("minor", [27, 33])
def test_a_namespaced_user_can_do_exactly_what_its_role_grants(lab: Lab, jane: Path, minor: int) -> None:
    assert as_jane(jane, minor, "get", "pods", "-n", "dev").returncode == 0
    yes = as_jane(jane, minor, "auth", "can-i", "watch", "pods", "-n", "dev")
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    no = as_jane(jane, minor, "auth", "can-i", "list", "secrets", "-n", "dev")
    assert (no.returncode, no.stdout.strip()) == (1, "no")

    out = as_jane(jane, minor, "get", "secrets", "-n", "dev")
    assert out.returncode == 1
    assert out.stderr.strip() == ('Error from server (Forbidden): secrets is forbidden: User "jane" cannot list '
                                  'resource "secrets" in API group "" in the namespace "dev"')
    out = as_jane(jane, minor, "get", "pods", "-n", "default")
    assert 'User "jane" cannot list resource "pods" in API group "" in the namespace "default"' in out.stderr
    out = as_jane(jane, minor, "delete", "pod", "anything", "-n", "dev")
    assert 'User "jane" cannot delete resource "pods" in API group "" in the namespace "dev"' in out.stderr

    listed = as_jane(jane, minor, "auth", "can-i", "--list", "-n", "dev")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:] if line.strip()}
    assert "[get list watch]" in rows["pods"]
    assert "secrets" not in rows and "deployments.apps" not in rows


def test_the_admin_is_a_cluster_admin_by_group_not_system_masters(lab: Lab) -> None:
    who = lab.kubectl("auth", "whoami", "-o", "json")
    user = json.loads(who.stdout)["status"]["userInfo"]
    assert user["username"] == "kubernetes-admin"
    assert "kubeadm:cluster-admins" in user["groups"] and "system:masters" not in user["groups"]
    assert lab.kubectl("auth", "can-i", "*", "*", "--all-namespaces").stdout.strip() == "yes"
