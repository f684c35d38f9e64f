"""`kubectl delete namespace` on the lab (kubectl 1.27 and 1.33): the namespace controller
removes its Deployment, running pods (stopped by their kubelets), Service and ConfigMap, then
the namespace itself, and kubectl's wait for it returns."""

from __future__ import annotations

import pytest

from tests.e2e.labdriver import Lab
from tests.e2e.test_walking_skeleton import web_image


@pytest.mark.parametrize("minor", [27, 33])
def test_deleting_a_namespace_removes_everything_in_it(lab: Lab, minor: int) -> None:
    ns = f"gone-{minor}"
    lab.kubectl("create", "namespace", ns, minor=minor)
    lab.kubectl("-n", ns, "create", "deployment", "web", f"--image={web_image(lab)}", "--replicas=2", minor=minor)
    lab.kubectl("-n", ns, "expose", "deployment", "web", "--port=80", "--target-port=8080", minor=minor)
    lab.kubectl("-n", ns, "create", "configmap", "settings", "--from-literal=a=b", minor=minor)
    lab.kubectl("-n", ns, "rollout", "status", "deployment/web", "--timeout=120s", minor=minor, timeout=150)

    # kubectl waits until the namespace is gone (its default), as a user sees it
    lab.kubectl("delete", "namespace", ns, "--timeout=150s", minor=minor, timeout=180)
    gone = lab.kubectl("get", "namespace", ns, minor=minor, check=False)
    assert gone.returncode == 1 and f'namespaces "{ns}" not found' in gone.stderr
    left = lab.kubectl("get", "pods,services,configmaps,deployments", "-n", ns, "--no-headers", minor=minor,
                       check=False)
    assert left.stdout.strip() == "", left.stdout
