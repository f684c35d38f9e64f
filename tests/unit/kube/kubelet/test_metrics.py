"""The kubelet's /metrics series: upstream's names, operation types and the text format."""

from __future__ import annotations

from lab.kube.component.metrics import Counter, Histogram
from lab.kube.kubelet.metrics import KubeletMetrics, operation_type


def test_operation_types_are_upstreams() -> None:
    assert [operation_type(m) for m in ("RunPodSandbox", "PodSandboxStatus", "CreateContainer", "ListContainerStats",
                                        "ImageFsInfo", "ExecSync", "UpdateContainerResources", "Version")] == [
        "run_podsandbox", "podsandbox_status", "create_container", "list_container_stats", "image_fs_info",
        "exec_sync", "update_container", "version"]


def test_histograms_and_counters_render_one_series_per_label_value() -> None:
    h = Histogram("x_seconds", "help", (0.1, 1.0), ("op",))
    h.observe(0.05, "a")
    h.observe(0.5, "a")
    h.observe(5, "b")
    lines = h.render()
    assert lines[:2] == ["# HELP x_seconds help", "# TYPE x_seconds histogram"]
    assert 'x_seconds_bucket{op="a",le="0.1"} 1' in lines and 'x_seconds_bucket{op="a",le="1"} 2' in lines
    assert 'x_seconds_bucket{op="b",le="1"} 0' in lines and 'x_seconds_bucket{op="b",le="+Inf"} 1' in lines
    assert 'x_seconds_sum{op="a"} 0.55' in lines and 'x_seconds_count{op="b"} 1' in lines
    assert h.count == 3
    assert Histogram("y", "h", (1.0,)).render()[-1] == "y_count 0"  # unlabelled: zeros from the start
    c = Counter("n_total", "h", ("op",))
    c.inc("a")
    c.inc("a")
    assert c.render()[-1] == 'n_total{op="a"} 2'


def test_runtime_calls_count_by_operation_and_errors_apart() -> None:
    m = KubeletMetrics()
    m.runtime_call("RunPodSandbox", 0.2, failed=False)
    m.runtime_call("RunPodSandbox", 0.1, failed=True)
    text = "\n".join(m.render())
    assert 'kubelet_runtime_operations_total{operation_type="run_podsandbox"} 2' in text
    assert 'kubelet_runtime_operations_errors_total{operation_type="run_podsandbox"} 1' in text
    assert 'kubelet_runtime_operations_duration_seconds_count{operation_type="run_podsandbox"} 2' in text
