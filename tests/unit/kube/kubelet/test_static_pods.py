"""Static pods from a manifest directory: upstream's file-source defaults, changes noticed, bad
files skipped; and the mirror pod that stands for one in the API."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.kube.kubelet.static_pods import (
    CONFIG_MIRROR,
    ManifestError,
    MirrorPods,
    StaticPodSource,
    load_manifest,
    static_hash,
)

MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: busybox:1.36
    command: [sleep, "3600"]
"""


def test_a_manifest_gets_upstreams_file_source_defaults(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(MANIFEST)
    pod = load_manifest(tmp_path / "web.yaml", "W1")
    md = pod["metadata"]
    assert (md["name"], md["namespace"]) == ("web-w1", "default")
    assert md["uid"] == md["annotations"]["kubernetes.io/config.hash"] and len(md["uid"]) == 32
    assert md["annotations"]["kubernetes.io/config.source"] == "file"
    assert pod["spec"]["nodeName"] == "W1"
    assert {"operator": "Exists", "effect": "NoExecute"} in pod["spec"]["tolerations"]
    assert load_manifest(tmp_path / "web.yaml", "W1")["metadata"]["uid"] == md["uid"]  # stable
    assert load_manifest(tmp_path / "web.yaml", "w2")["metadata"]["uid"] != md["uid"]  # per node


@pytest.mark.parametrize("text", ["kind: Service\napiVersion: v1\n", "::: not yaml",
                                  MANIFEST.replace("  name: web\n", "")])
def test_bad_manifests_are_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ManifestError):
        load_manifest(tmp_path / "bad.yaml", "w1")


def test_the_source_tells_each_change_and_skips_bad_files(tmp_path: Path) -> None:
    changed: list[str] = []
    source = StaticPodSource(str(tmp_path), "w1", changed.append)
    (tmp_path / "web.yaml").write_text(MANIFEST)
    (tmp_path / "broken.yaml").write_text("::: nope")
    (tmp_path / "notes.txt").write_text("not a manifest")
    source.scan()
    assert changed == ["default/web-w1"] and list(source.pods) == ["default/web-w1"]
    first = static_hash(source.pods["default/web-w1"])
    source.scan()
    assert changed == ["default/web-w1"]  # nothing new
    (tmp_path / "web.yaml").write_text(MANIFEST.replace('"3600"', '"60"'))
    source.scan()
    assert changed == ["default/web-w1"] * 2 and static_hash(source.pods["default/web-w1"]) != first
    (tmp_path / "web.yaml").unlink()
    source.scan()
    assert changed == ["default/web-w1"] * 3 and source.pods == {}


def test_the_mirror_pod_is_owned_by_the_node_and_names_the_hash(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(MANIFEST)
    static = load_manifest(tmp_path / "web.yaml", "w1")
    mirror = MirrorPods(None, "w1", lambda: "node-uid").mirror_of(static)  # type: ignore[arg-type]
    assert mirror["metadata"]["annotations"][CONFIG_MIRROR] == static_hash(static)
    assert mirror["metadata"]["ownerReferences"] == [{"apiVersion": "v1", "kind": "Node", "name": "w1",
                                                      "uid": "node-uid", "controller": True}]
    assert "uid" not in mirror["metadata"] and mirror["spec"]["nodeName"] == "w1"
