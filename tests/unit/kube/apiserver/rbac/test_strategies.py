"""RBAC validation and printing as upstream's strategies do them, through the registry."""

from __future__ import annotations

import pytest

from lab.kube.apiserver.rbac import policy as p
from lab.kube.apiserver.strategies import rbac
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.machinery import catalog, errors


def messages(res: catalog.Resource, obj: dict[str, object]) -> list[str]:
    strategy = {catalog.ROLES: rbac.ROLES, catalog.CLUSTERROLES: rbac.CLUSTERROLES,
                catalog.ROLEBINDINGS: rbac.ROLEBINDINGS,
                catalog.CLUSTERROLEBINDINGS: rbac.CLUSTERROLEBINDINGS}[res]
    strategy.defaults(obj)
    return [f"{c.field}: {c.message}" for c in strategy.validate(obj)]


def test_rules_need_verbs_groups_and_resources() -> None:
    role = p.role("r", "default", [{"apiGroups": [""], "resources": ["pods"]}, {"verbs": ["get"]}])
    assert messages(catalog.ROLES, role) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        "rules[1].apiGroups: Required value: resource rules must supply at least one api group",
        "rules[1].resources: Required value: resource rules must supply at least one resource"]
    assert messages(catalog.ROLES, p.role("r", "default", [p.urls(["get"], ["/x"])])) == [
        'rules[0].nonResourceURLs: Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs']
    assert messages(catalog.CLUSTERROLES, p.cluster_role("system:x", [p.urls(["get"], ["/x"])])) == []


def test_subjects_and_role_refs() -> None:
    rb = p.role_binding("b", "default", "r", [{"kind": "ServiceAccount", "name": "sa", "apiGroup": "x"},
                                              {"kind": "Robot", "name": "r2"}, {"kind": "User", "name": ""}])
    rb["roleRef"] = {"kind": "Thing", "name": "r"}
    assert messages(catalog.ROLEBINDINGS, rb) == [
        'roleRef.kind: Unsupported value: "Thing": supported values: "Role", "ClusterRole"',
        'subjects[0].apiGroup: Unsupported value: "x": supported values: ""',
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
        "subjects[2].name: Required value"]
    crb = p.cluster_role_binding("c", "view", [{"kind": "ServiceAccount", "name": "sa"}])
    assert messages(catalog.CLUSTERROLEBINDINGS, crb) == ["subjects[0].namespace: Required value"]
    crb["roleRef"]["kind"] = "Role"
    assert 'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"' in \
        messages(catalog.CLUSTERROLEBINDINGS, crb)


async def test_role_ref_is_immutable_and_tables_print_the_role() -> None:
    async with InMemoryAPI() as api:
        rb = await api.seed(catalog.ROLEBINDINGS, {
            "apiVersion": p.API_VERSION, "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "default"},
            "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "User", "name": "jane"}]})
        assert rb["roleRef"]["apiGroup"] == p.GROUP and rb["subjects"][0]["apiGroup"] == p.GROUP
        assert rbac.ROLEBINDINGS.row(rb)[:2] == ["b", "ClusterRole/view"]
        with pytest.raises(errors.Invalid) as caught:
            await api.update(catalog.ROLEBINDINGS, {**rb, "roleRef": {**rb["roleRef"], "name": "edit"}})
        assert caught.value.message == (
            'RoleBinding.rbac.authorization.k8s.io "b" is invalid: roleRef: Invalid value: '
            'rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: '
            "cannot change roleRef")
