"""The CNI conflist the kubelet writes for its podCIDR, and how it writes it."""

from __future__ import annotations

import json

from lab.kube.kubelet import cni


def test_conflist_is_bridge_host_local_and_portmap_for_the_pod_cidr():
    doc = cni.conflist("10.244.1.0/24")
    assert doc["cniVersion"] == "0.4.0" and doc["name"] == "kubelab"
    bridge, portmap = doc["plugins"]
    assert bridge == {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
                      "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]],
                               "routes": [{"dst": "0.0.0.0/0"}]}}
    assert portmap == {"type": "portmap", "capabilities": {"portMappings": True}}


def test_writing_is_idempotent_and_leaves_no_temp_files(tmp_path):
    conf_dir = tmp_path / "net.d"
    assert cni.write_conflist(conf_dir, "10.244.1.0/24") is True
    assert cni.write_conflist(conf_dir, "10.244.1.0/24") is False
    assert cni.write_conflist(conf_dir, "10.244.2.0/24") is True
    assert [p.name for p in conf_dir.iterdir()] == ["10-kubelab.conflist"]
    assert json.loads((conf_dir / "10-kubelab.conflist").read_text())["plugins"][0]["ipam"]["ranges"][0][0][
        "subnet"] == "10.244.2.0/24"
    assert cni.configured_cidr(conf_dir) == "10.244.2.0/24"
    assert cni.configured_cidr(tmp_path / "missing") == ""
