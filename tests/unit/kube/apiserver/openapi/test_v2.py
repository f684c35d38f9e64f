"""The OpenAPI v2 document: every served resource has its operations, with the GVK and
parameters kubectl looks for."""

from __future__ import annotations

from lab.kube.apiserver.openapi import v2_json
from lab.kube.machinery import catalog

MAIN_ACTIONS = {"get": "list", "post": "post", "delete": "deletecollection"}
ITEM_ACTIONS = {"get": "get", "put": "put", "patch": "patch", "delete": "delete"}


def _params(op: dict) -> set[str]:
    return {p["name"] for p in op["parameters"]}


def test_every_resource_has_collection_and_item_operations_tagged_with_its_gvk():
    paths = v2_json()["paths"]
    for res in catalog.RESOURCES:
        gvk = {"group": res.group, "kind": res.kind, "version": res.version}
        collection = paths[res.path(namespace="{namespace}")]
        item = paths[res.path(namespace="{namespace}", name="{name}")]
        for method, action in MAIN_ACTIONS.items():
            assert collection[method]["x-kubernetes-action"] == action
            assert collection[method]["x-kubernetes-group-version-kind"] == gvk
        for method, action in ITEM_ACTIONS.items():
            assert item[method]["x-kubernetes-action"] == action
            assert item[method]["x-kubernetes-group-version-kind"] == gvk


def test_writes_accept_field_validation_and_patch_accepts_force():
    paths = v2_json()["paths"]
    item = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert {"fieldValidation", "fieldManager", "dryRun"} <= _params(item["put"])
    assert {"fieldValidation", "fieldManager", "dryRun", "force"} <= _params(item["patch"])
    assert {"fieldValidation", "body"} <= _params(paths["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"])
    assert "application/strategic-merge-patch+json" in item["patch"]["consumes"]


def test_operation_ids_follow_upstream():
    paths = v2_json()["paths"]
    assert paths["/api/v1/namespaces/{namespace}/pods"]["post"]["operationId"] == "createCoreV1NamespacedPod"
    assert paths["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    assert paths["/api/v1/nodes/{name}"]["patch"]["operationId"] == "patchCoreV1Node"
    assert paths["/api/v1/watch/namespaces/{namespace}/pods"]["get"]["x-kubernetes-action"] == "watchlist"
    assert (paths["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"]["put"]["operationId"]
            == "replaceCoordinationV1NamespacedLease")


def test_subresources_name_their_own_kinds():
    paths = v2_json()["paths"]
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "kind": "Scale", "version": "v1"}
    assert scale["operationId"] == "patchAppsV1NamespacedDeploymentScale"
    binding = paths["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"]
    assert binding["parameters"][0]["schema"] == {"$ref": "#/definitions/io.k8s.api.core.v1.Binding"}
    status = paths["/api/v1/nodes/{name}/status"]["put"]
    assert status["x-kubernetes-group-version-kind"]["kind"] == "Node"


def test_definitions_carry_gvk_and_patch_metadata():
    defs = v2_json()["definitions"]
    assert defs["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}]
    containers = defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["items"] == {"$ref": "#/definitions/io.k8s.api.core.v1.Container"}
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"


def test_every_reference_points_at_a_definition():
    doc = v2_json()
    refs: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"].removeprefix("#/definitions/"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs <= set(doc["definitions"])
