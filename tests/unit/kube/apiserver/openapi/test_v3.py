"""OpenAPI v3: one document per group-version, listed with a content hash in the index."""

from __future__ import annotations

from lab.kube.apiserver.openapi import v3_document, v3_index
from lab.kube.machinery import catalog


def test_the_index_lists_every_served_group_version_with_a_hash():
    paths = v3_index()["paths"]
    expected = {f"apis/{r.group}/{r.version}" if r.group else f"api/{r.version}" for r in catalog.RESOURCES}
    assert set(paths) == expected
    for gv, entry in paths.items():
        assert entry["serverRelativeURL"].startswith(f"/openapi/v3/{gv}?hash=")


def test_a_group_version_document_has_its_kinds_operations_and_schemas():
    doc = v3_document("apis/apps/v1")
    assert doc is not None and doc["openapi"].startswith("3.0")
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert {"name": "fieldValidation", "in": "query"}.items() <= next(
        p for p in patch["parameters"] if p["name"] == "fieldValidation").items()
    body = patch["requestBody"]["content"]["application/strategic-merge-patch+json"]["schema"]
    assert body == {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}
    schemas = doc["components"]["schemas"]
    assert schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}]
    assert "io.k8s.api.core.v1.Container" in schemas  # reached through the pod template
    assert "io.k8s.api.core.v1.Node" not in schemas  # only what this group-version refers to


def test_every_reference_resolves_inside_its_own_document():
    for gv in v3_index()["paths"]:
        doc = v3_document(gv)
        text = str(doc)
        schemas = doc["components"]["schemas"]
        for ref in {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}:
            assert ref in schemas, (gv, ref)


def test_an_unknown_group_version_has_no_document():
    assert v3_document("apis/storage.k8s.io/v1") is None
    assert v3_document("/api/v1/") is not None
