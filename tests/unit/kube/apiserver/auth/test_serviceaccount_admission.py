"""ServiceAccount admission: a created pod runs as `default` unless it names an account, the
account must exist, and unless automounting is off every container mounts the projected
`kube-api-access-*` volume at /var/run/secrets/kubernetes.io/serviceaccount, shaped as upstream."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from lab.kube.apiserver.admission import AdmissionRequest, Operation
from lab.kube.apiserver.admission.serviceaccount import ServiceAccountAdmission
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.user import UserInfo

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
UPSTREAM_SOURCE = {"defaultMode": 420, "sources": [
    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
    {"downwardAPI": {"items": [{"path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
]}


def make_pod(**spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}], **spec}}


class Accounts:
    """A ServiceAccount lookup over a dict, counting how often it was asked."""

    def __init__(self, *accounts: Obj) -> None:
        self.accounts = {(a["metadata"]["namespace"], a["metadata"]["name"]): a for a in accounts}
        self.asked = 0

    async def __call__(self, namespace: str, name: str) -> Obj | None:
        self.asked += 1
        return self.accounts.get((namespace, name))


def account(name: str = "default", **fields: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "default"},
            **fields}


async def admit(plugin: ServiceAccountAdmission, pod: Obj, operation: Operation = Operation.CREATE,
                subresource: str = "", resource: catalog.Resource = catalog.PODS) -> Obj:
    request = AdmissionRequest(operation, resource, "default", pod["metadata"]["name"], subresource,
                               UserInfo("alice"), pod, None)
    await plugin.admit(request)
    return pod


def token_volumes(pod: Obj) -> list[Obj]:
    return [v for v in pod["spec"].get("volumes") or [] if v["name"].startswith("kube-api-access-")]


async def test_a_created_pod_runs_as_default_with_the_upstream_token_volume_and_mounts() -> None:
    settings = Settings(insecure_anonymous_admin=True, enable_admission_plugins=("ServiceAccount",))
    async with InMemoryAPI(settings) as api, Client(api.config) as client:
        if (resource := catalog.lookup("", "v1", "serviceaccounts")) is not None:
            await api.seed(resource, account())  # what the ServiceAccount controller would create
        pod = make_pod(initContainers=[{"name": "init", "image": "busybox:1.36"}])
        stored = await client.create(catalog.PODS, pod, "default")

    spec = stored["spec"]
    assert spec["serviceAccountName"] == "default" and spec["serviceAccount"] == "default"
    [volume] = spec["volumes"]
    assert re.fullmatch(r"kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}", volume["name"])
    assert volume == {"name": volume["name"], "projected": UPSTREAM_SOURCE}
    mount = {"name": volume["name"], "readOnly": True, "mountPath": MOUNT_PATH}
    assert spec["containers"][0]["volumeMounts"] == [mount]
    assert spec["initContainers"][0]["volumeMounts"] == [mount]


async def test_a_named_account_is_kept_and_the_deprecated_field_is_honoured() -> None:
    plugin = ServiceAccountAdmission(Accounts(account("robot")))
    pod = await admit(plugin, make_pod(serviceAccountName="robot"))
    assert pod["spec"]["serviceAccountName"] == pod["spec"]["serviceAccount"] == "robot"
    old_style = await admit(plugin, make_pod(serviceAccount="robot"))
    assert old_style["spec"]["serviceAccountName"] == "robot"


async def test_a_missing_account_refuses_the_pod_with_upstreams_message() -> None:
    plugin = ServiceAccountAdmission(Accounts(account()), retry_interval=lambda: 0)
    with pytest.raises(errors.Forbidden) as refused:
        await admit(plugin, make_pod(serviceAccountName="robot"))
    assert str(refused.value) == ('pods "web" is forbidden: error looking up service account default/robot: '
                                  'serviceaccount "robot" not found')
    assert refused.value.code == 403


async def test_default_is_looked_up_ten_times_before_the_pod_is_refused() -> None:
    lookup = Accounts()
    plugin = ServiceAccountAdmission(lookup, retry_interval=lambda: 0)
    with pytest.raises(errors.Forbidden, match='serviceaccount "default" not found'):
        await admit(plugin, make_pod())
    assert lookup.asked == 10


async def test_automount_false_on_the_pod_or_the_account_adds_nothing_and_the_pod_wins() -> None:
    off = ServiceAccountAdmission(Accounts(account(automountServiceAccountToken=False)))
    on = ServiceAccountAdmission(Accounts(account()))

    by_pod = await admit(on, make_pod(automountServiceAccountToken=False))
    by_account = await admit(off, make_pod())
    overridden = await admit(off, make_pod(automountServiceAccountToken=True))

    for pod in (by_pod, by_account):
        assert "volumes" not in pod["spec"] and "volumeMounts" not in pod["spec"]["containers"][0]
        assert pod["spec"]["serviceAccountName"] == "default"
    assert len(token_volumes(overridden)) == 1


async def test_a_container_already_mounting_the_path_keeps_its_own_mount() -> None:
    plugin = ServiceAccountAdmission(Accounts(account()))
    own = {"name": "mine", "mountPath": MOUNT_PATH}
    pod = make_pod(volumes=[{"name": "mine", "emptyDir": {}}],
                   containers=[{"name": "a", "image": "x", "volumeMounts": [own]}, {"name": "b", "image": "x"}])
    await admit(plugin, pod)
    [volume] = token_volumes(pod)
    assert pod["spec"]["containers"][0]["volumeMounts"] == [own]
    assert pod["spec"]["containers"][1]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True, "mountPath": MOUNT_PATH}]

    alone = make_pod(volumes=[{"name": "mine", "emptyDir": {}}],
                     containers=[{"name": "a", "image": "x", "volumeMounts": [own]}])
    await admit(plugin, alone)
    assert token_volumes(alone) == []  # nobody needs it: no volume


async def test_an_existing_kube_api_access_volume_is_reused() -> None:
    plugin = ServiceAccountAdmission(Accounts(account()))
    volume = {"name": "kube-api-access-abcde", "projected": copy.deepcopy(UPSTREAM_SOURCE)}
    pod = await admit(plugin, make_pod(volumes=[volume]))
    assert pod["spec"]["volumes"] == [volume]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "kube-api-access-abcde", "readOnly": True, "mountPath": MOUNT_PATH}]


async def test_the_accounts_image_pull_secrets_are_copied_unless_the_pod_has_some() -> None:
    plugin = ServiceAccountAdmission(Accounts(account(imagePullSecrets=[{"name": "registry"}])))
    assert (await admit(plugin, make_pod()))["spec"]["imagePullSecrets"] == [{"name": "registry"}]
    own = await admit(plugin, make_pod(imagePullSecrets=[{"name": "mine"}]))
    assert own["spec"]["imagePullSecrets"] == [{"name": "mine"}]


async def test_updates_subresources_and_other_resources_are_left_alone() -> None:
    plugin = ServiceAccountAdmission(Accounts())  # no account at all: any lookup would refuse
    for pod in (await admit(plugin, make_pod(), Operation.UPDATE),
                await admit(plugin, make_pod(), subresource="status"),
                await admit(plugin, make_pod(), resource=catalog.CONFIGMAPS)):
        assert pod == make_pod()


async def test_a_mirror_pod_is_not_changed_and_may_not_name_an_account() -> None:
    plugin = ServiceAccountAdmission(Accounts())
    mirror = make_pod()
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "hash"}
    assert await admit(plugin, copy.deepcopy(mirror)) == mirror
    mirror["spec"]["serviceAccountName"] = "default"
    with pytest.raises(errors.Forbidden, match="a mirror pod may not reference service accounts"):
        await admit(plugin, mirror)


async def test_without_a_serviceaccounts_resource_the_volume_is_still_added() -> None:
    pod = await admit(ServiceAccountAdmission(None), make_pod(serviceAccountName="anything"))
    assert pod["spec"]["serviceAccountName"] == "anything" and len(token_volumes(pod)) == 1


async def test_the_schema_takes_an_admitted_pod_back_under_strict_field_validation() -> None:
    volumes = [{"name": "kube-api-access-abcde", "projected": copy.deepcopy(UPSTREAM_SOURCE)},
               {"name": "bundle", "projected": {"sources": [{"clusterTrustBundle": {
                   "signerName": "example.com/signer", "labelSelector": {"matchLabels": {"a": "b"}},
                   "path": "bundle.pem", "optional": True}}]}}]
    pod = make_pod(serviceAccountName="default", serviceAccount="default", automountServiceAccountToken=True,
                   volumes=volumes)
    pod["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "kube-api-access-abcde", "readOnly": True, "mountPath": MOUNT_PATH}]
    strict = {"fieldValidation": "Strict"}
    async with InMemoryAPI() as api, Client(api.config) as client:
        stored = await client.request("POST", "/api/v1/namespaces/default/pods", params=strict, body=pod)
        assert stored["spec"]["volumes"] == volumes
        pod["metadata"]["name"] = "typo"
        pod["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["expirySeconds"] = 1
        with pytest.raises(errors.BadRequest, match="expirySeconds"):
            await client.request("POST", "/api/v1/namespaces/default/pods", params=strict, body=pod)
