"""Work queue metrics as upstream's controllers export them: adds, depth, retries, waits and work."""

from __future__ import annotations

from lab.kube.client.workqueue import WorkQueue, set_metrics
from lab.kube.component.workqueue_metrics import WorkqueueMetrics
from lab.kube.controllers.main import metrics_handler


async def test_a_named_queue_reports_adds_depth_retries_and_durations() -> None:
    metrics = WorkqueueMetrics()
    set_metrics(metrics)
    try:
        queue, quiet = WorkQueue("replicaset"), WorkQueue()
    finally:
        set_metrics(None)
    queue.add("a")
    queue.add("b")
    queue.add("a")  # already waiting: not an add
    quiet.add("x")  # unnamed: reports nothing
    assert metrics.depths == {"replicaset": 2}
    key = await queue.get()
    assert key == "a" and metrics.depths == {"replicaset": 1}
    queue.add_rate_limited("a")
    queue.done("a")
    text = metrics.render()
    assert 'workqueue_adds_total{name="replicaset"} 2' in text
    assert 'workqueue_depth{name="replicaset"} 1' in text
    assert 'workqueue_retries_total{name="replicaset"} 1' in text
    assert 'workqueue_queue_duration_seconds_count{name="replicaset"} 1' in text
    assert 'workqueue_work_duration_seconds_count{name="replicaset"} 1' in text
    assert "# TYPE workqueue_depth gauge" in text
    queue.shutdown()


async def test_the_controller_manager_serves_them_with_the_process_series() -> None:
    metrics = WorkqueueMetrics()
    metrics.added("job")
    response = await metrics_handler(metrics)(None)  # type: ignore[arg-type]
    assert response.text is not None
    assert "process_start_time_seconds" in response.text and 'workqueue_adds_total{name="job"} 1' in response.text
