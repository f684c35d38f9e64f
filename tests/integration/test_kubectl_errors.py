"""Bad input from a user's kubectl (1.27 and 1.33): each mistake gets the error text a real
cluster prints, with a non-zero exit, and the server keeps serving afterwards."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.integration
VERSIONS = ["1.27", "1.33"]

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: web
    image: registry.local/web:1
    ports:
    - containerPort: 8080
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: web
        image: registry.local/web:1
"""


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ns(kubectl: Any, version: str) -> Iterator[str]:
    name = f"err{version.replace('.', '')}-{uuid.uuid4().hex[:6]}"
    assert kubectl(version, "create", "namespace", name).returncode == 0
    yield name
    # after every mistake the server must still be ready
    ready = kubectl(version, "get", "--raw", "/readyz")
    assert ready.returncode == 0 and ready.stdout.strip() == "ok", ready.stderr


def failed(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0, f"kubectl succeeded: {out.stdout}"
    return out.stderr.strip()


def test_pod_without_containers_is_invalid(kubectl: Any, version: str, ns: str) -> None:
    manifest = POD.format(name="x").split("  containers:")[0] + "  containers: []\n"
    err = failed(kubectl(version, "-n", ns, "apply", "-f", "-", input=manifest))
    assert err == 'The Pod "x" is invalid: spec.containers: Required value'


def test_invalid_name_lists_every_cause(kubectl: Any, version: str, ns: str) -> None:
    manifest = POD.format(name="Bad_Name")
    err = failed(kubectl(version, "-n", ns, "create", "-f", "-", input=manifest))
    assert err.startswith('The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
                          "a lowercase RFC 1123 subdomain must consist of")


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n",  # YAML that does not parse
    '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"',    # JSON cut short
])
def test_syntactically_broken_manifest_fails_in_kubectl(kubectl: Any, version: str, ns: str, text: str) -> None:
    err = failed(kubectl(version, "-n", ns, "apply", "-f", "-", input=text))
    assert err.startswith("error: error parsing STDIN: ")  # kubectl's own parser, the server never sees it


def test_wrong_type_in_a_pod_is_a_bad_request(kubectl: Any, version: str, ns: str) -> None:
    manifest = POD.format(name="typed").replace("    - containerPort: 8080\n", "    - containerPort: \"8080\"\n")
    manifest = manifest.replace("    ports:\n    - containerPort: \"8080\"\n", '    ports: "8080"\n')
    err = failed(kubectl(version, "-n", ns, "apply", "-f", "-", input=manifest))
    assert err == ('Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be '
                   'handled as a Pod: json: cannot unmarshal string into Go struct field '
                   'Container.spec.containers.ports of type []v1.ContainerPort')


def test_wrong_type_in_a_deployment_is_a_bad_request(kubectl: Any, version: str, ns: str) -> None:
    manifest = DEPLOYMENT.format(name="typed", replicas='"three"')
    err = failed(kubectl(version, "-n", ns, "create", "-f", "-", input=manifest))
    assert err == ('Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" '
                   'cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field '
                   'DeploymentSpec.spec.replicas of type int32')


def test_unknown_field_is_a_strict_decoding_error(kubectl: Any, version: str, ns: str) -> None:
    manifest = POD.format(name="strict").replace("    image:", "    imagePullPolicyy: Always\n    image:")
    err = failed(kubectl(version, "-n", ns, "apply", "-f", "-", input=manifest))
    assert err == ('Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be '
                   'handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagePullPolicyy"')


def test_second_create_deployment_already_exists(kubectl: Any, version: str, ns: str) -> None:
    create = ("-n", ns, "create", "deployment", "web", "--image=registry.local/web:1")
    assert kubectl(version, *create).returncode == 0
    err = failed(kubectl(version, *create))
    # `kubectl create deployment` wraps the server's AlreadyExists in its own prefix
    assert err == 'error: failed to create deployment: deployments.apps "web" already exists'
    err = failed(kubectl(version, "-n", ns, "create", "-f", "-", input=DEPLOYMENT.format(name="web", replicas=1)))
    assert err == ('Error from server (AlreadyExists): error when creating "STDIN": '
                   'deployments.apps "web" already exists')


def test_replace_with_a_stale_resource_version_conflicts(kubectl: Any, version: str, ns: str) -> None:
    created = kubectl(version, "-n", ns, "create", "-f", "-", input=DEPLOYMENT.format(name="web", replicas=1))
    assert created.returncode == 0
    stale = kubectl(version, "-n", ns, "get", "deployment", "web", "-o", "yaml").stdout
    assert kubectl(version, "-n", ns, "scale", "deployment", "web", "--replicas=2").returncode == 0
    err = failed(kubectl(version, "-n", ns, "replace", "-f", "-", input=stale))
    assert err == ('Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on '
                   'deployments.apps "web": the object has been modified; please apply your changes to the '
                   'latest version and try again')


def test_missing_objects_and_namespaces_are_not_found(kubectl: Any, version: str, ns: str) -> None:
    err = failed(kubectl(version, "-n", ns, "get", "pod", "nope"))
    assert err == 'Error from server (NotFound): pods "nope" not found'
    err = failed(kubectl(version, "-n", f"{ns}-missing", "create", "-f", "-", input=POD.format(name="p")))
    assert err == f'Error from server (NotFound): error when creating "STDIN": namespaces "{ns}-missing" not found'
    err = failed(kubectl(version, "-n", ns, "get", "frobnicators"))
    assert err == 'error: the server doesn\'t have a resource type "frobnicators"'


def test_unsupported_field_selector_is_a_bad_request(kubectl: Any, version: str, ns: str) -> None:
    err = failed(kubectl(version, "-n", ns, "get", "pods", "--field-selector", "spec.bogus=x"))
    assert err == ('Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", '
                   'field selector "spec.bogus=x": field label not supported: spec.bogus')


def test_changing_an_immutable_field_is_invalid(kubectl: Any, version: str, ns: str) -> None:
    created = kubectl(version, "-n", ns, "create", "-f", "-", input=DEPLOYMENT.format(name="web", replicas=1))
    assert created.returncode == 0
    err = failed(kubectl(version, "-n", ns, "patch", "deployment", "web", "--type=merge",
                         "-p", '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}'))
    assert err.startswith('The Deployment "web" is invalid: ')
    assert "spec.selector: Invalid value: " in err and "field is immutable" in err


def test_json_patch_that_does_not_apply_is_rejected(kubectl: Any, version: str, ns: str) -> None:
    assert kubectl(version, "-n", ns, "create", "configmap", "cfg", "--from-literal=a=b").returncode == 0
    out = kubectl(version, "-n", ns, "patch", "configmap", "cfg", "--type=json",
                  "-p", '[{"op": "remove", "path": "/data/missing"}]')
    # a well-formed patch that does not apply is a 422 without causes, which kubectl prints so
    err = failed(out)
    assert err.startswith("The request is invalid: ") and "/data/missing" in err
