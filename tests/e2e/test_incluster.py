"""A pod's projected ServiceAccount token works with the official Python client in-cluster:
`config.load_incluster_config()` finds the API server from KUBERNETES_SERVICE_HOST/PORT and the
token and CA at /var/run/secrets/kubernetes.io/serviceaccount; the account may do exactly what
its Role grants (list pods) and no more (secrets: 403)."""

from __future__ import annotations

import json

from tests.e2e.labdriver import Lab

NS = "incluster"
SCRIPT = r"""
import os, sys
from kubernetes import client, config
from kubernetes.client.rest import ApiException

host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
print("service", host, port)
assert host == "10.96.0.1" and port == "443", (host, port)
config.load_incluster_config()
api = client.CoreV1Api()
names = [p.metadata.name for p in api.list_namespaced_pod("incluster").items]
print("pods", names)
assert "client" in names, names
try:
    api.list_namespaced_secret("incluster")
except ApiException as exc:
    print("secrets", exc.status)
    assert exc.status == 403, exc.status
else:
    sys.exit("listing secrets was allowed")
print("all good")
"""


def test_the_official_python_client_works_in_cluster_with_the_pods_token(lab: Lab) -> None:
    image = f"{lab.hosts['cp1'].ip}:5000/kubelab/python-client:1"
    lab.kubectl("create", "namespace", NS)
    try:
        lab.kubectl("-n", NS, "create", "serviceaccount", "reader")
        lab.kubectl("-n", NS, "create", "role", "pod-reader", "--verb=get,list", "--resource=pods")
        lab.kubectl("-n", NS, "create", "rolebinding", "reader", "--role=pod-reader", f"--serviceaccount={NS}:reader")
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": NS},
               "spec": {"serviceAccountName": "reader", "restartPolicy": "Never",
                        "containers": [{"name": "client", "image": image, "command": ["python3", "-c", SCRIPT]}]}}
        lab.kubectl("apply", "-f", "-", stdin=json.dumps(pod))
        phase = lab.wait("the client pod to finish", lambda: lab.get_json("pod", "client", "-n", NS)["status"]
                         .get("phase") in ("Succeeded", "Failed") and lab.get_json("pod", "client", "-n", NS)
                         ["status"]["phase"], timeout=300)
        log = lab.kubectl("-n", NS, "logs", "client", check=False).stdout
        assert phase == "Succeeded", log
        assert "pods ['client']" in log and "secrets 403" in log and "all good" in log, log
    finally:
        lab.kubectl("delete", "namespace", NS, "--wait=false", check=False)
