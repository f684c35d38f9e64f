"""The CRI security context a container gets from its own and its pod's securityContext."""

from __future__ import annotations

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.podconfig import namespace_options, non_root_violation, security_context

from .conftest import make_pod


def test_the_container_wins_over_the_pod_and_the_pods_groups_are_supplemental() -> None:
    pod = make_pod(securityContext={"runAsUser": 1001, "allowPrivilegeEscalation": False,
                                    "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}})
    pod["spec"]["securityContext"] = {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000,
                                      "supplementalGroups": [4000, 2000]}
    sc = security_context(pod, pod["spec"]["containers"][0])
    assert (sc.run_as_user.value, sc.run_as_group.value) == (1001, 3000)
    assert list(sc.supplemental_groups) == [2000, 4000]
    assert sc.no_new_privs
    assert list(sc.capabilities.add_capabilities) == ["NET_ADMIN"]
    assert list(sc.capabilities.drop_capabilities) == ["ALL"]


def test_nothing_set_is_nothing_asked() -> None:
    pod = make_pod()
    sc = security_context(pod, pod["spec"]["containers"][0])
    assert not sc.HasField("run_as_user") and not sc.HasField("run_as_group")
    assert not sc.no_new_privs and not sc.privileged and not sc.supplemental_groups


def test_a_privileged_container_keeps_privilege_escalation() -> None:
    pod = make_pod(securityContext={"privileged": True, "allowPrivilegeEscalation": False})
    assert not security_context(pod, pod["spec"]["containers"][0]).no_new_privs


def test_shared_and_host_namespaces() -> None:
    pod = make_pod()
    assert namespace_options(pod) == pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)
    pod["spec"]["shareProcessNamespace"] = True
    assert namespace_options(pod).pid == pb.POD
    pod["spec"].update(hostPID=True, hostIPC=True, hostNetwork=True)
    assert namespace_options(pod) == pb.NamespaceOption(network=pb.NODE, pid=pb.NODE, ipc=pb.NODE)


def test_run_as_non_root_checks_the_image_user_when_no_uid_is_given() -> None:
    pod = make_pod(securityContext={"runAsNonRoot": True})
    c = pod["spec"]["containers"][0]
    root = pb.Image(id="i")
    root.uid.value = 0
    assert non_root_violation(pod, c, root) == ('container has runAsNonRoot and image will run as root '
                                                '(pod: "web_default(uid-web)", container: app)')
    named = pb.Image(id="i", username="nginx")
    assert non_root_violation(pod, c, named).startswith(
        "container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root")
    user = pb.Image(id="i")
    user.uid.value = 101
    assert non_root_violation(pod, c, user) == ""
    c["securityContext"]["runAsUser"] = 1000
    assert non_root_violation(pod, c, root) == ""
