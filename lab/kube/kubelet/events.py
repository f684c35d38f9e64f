"""The Events the kubelet records about pods, with upstream's reasons and texts
(pkg/kubelet/events/event.go and the messages of kuberuntime/images), so `kubectl describe pod`
reads as on any cluster. The recorder folds repeats (BackOff counts up).
"""

from __future__ import annotations

from typing import Protocol

from lab.kube.client.events import NORMAL, WARNING
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj


class Recorder(Protocol):
    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None: ...


class NoEvents:
    """For a syncer without an API (tests, hollow nodes): nothing is recorded."""

    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        return None


def go_duration(seconds: float) -> str:
    """A duration as Go's time.Duration prints it (`1.234s`, `523.4ms`), which the texts embed."""
    if seconds < 0:
        return "-" + go_duration(-seconds)
    if seconds == 0:
        return "0s"
    if seconds >= 1:
        minutes, rest = divmod(seconds, 60)
        hours, minutes = divmod(int(minutes), 60)
        text = f"{rest:.9f}".rstrip("0").rstrip(".") + "s"
        return (f"{hours}h{minutes}m" if hours else f"{minutes}m" if minutes else "") + text
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.6f}".rstrip("0").rstrip(".") + "ms"
    return f"{seconds * 1e6:.3f}".rstrip("0").rstrip(".") + "µs"


def pod_ref(pod: Obj) -> str:
    """upstream format.Pod: name_namespace(uid)."""
    return f"{meta.name(pod)}_{meta.namespace(pod)}({meta.uid(pod)})"


class PodEvents:
    """The kubelet's pod events, each a method named after its reason."""

    def __init__(self, recorder: Recorder | None = None) -> None:
        self.recorder: Recorder = recorder or NoEvents()

    def _emit(self, pod: Obj, type_: str, reason: str, message: str) -> None:
        self.recorder.event(pod, type_, reason, message)

    def pulling(self, pod: Obj, image: str) -> None:
        self._emit(pod, NORMAL, "Pulling", f'Pulling image "{image}"')

    def pulled(self, pod: Obj, image: str, took: float, size: int) -> None:
        self._emit(pod, NORMAL, "Pulled", f'Successfully pulled image "{image}" in {go_duration(took)} '
                                          f"({go_duration(took)} including waiting). Image size: {size} bytes.")

    def already_present(self, pod: Obj, image: str) -> None:
        self._emit(pod, NORMAL, "Pulled", f'Container image "{image}" already present on machine')

    def pull_failed(self, pod: Obj, image: str, details: str) -> None:
        self._emit(pod, WARNING, "Failed", f'Failed to pull image "{image}": {details}')
        self.failed(pod, "ErrImagePull")

    def pull_backoff(self, pod: Obj, image: str) -> None:
        self._emit(pod, NORMAL, "BackOff", f'Back-off pulling image "{image}"')
        self.failed(pod, "ImagePullBackOff")

    def never_pull(self, pod: Obj, message: str) -> None:
        self._emit(pod, WARNING, "ErrImageNeverPull", message)
        self.failed(pod, "ErrImageNeverPull")

    def pull_secrets_unreadable(self, pod: Obj, names: list[str]) -> None:
        self._emit(pod, WARNING, "FailedToRetrieveImagePullSecret",
                   f"Unable to retrieve some image pull secrets ({', '.join(names)}); attempting to pull the image "
                   "may not succeed.")

    def failed(self, pod: Obj, error: str) -> None:
        self._emit(pod, WARNING, "Failed", f"Error: {error}")

    def invalid_env_names(self, pod: Obj, message: str) -> None:
        self._emit(pod, WARNING, "InvalidEnvironmentVariableNames", message)

    def created(self, pod: Obj, container: str) -> None:
        self._emit(pod, NORMAL, "Created", f"Created container: {container}")

    def started(self, pod: Obj, container: str) -> None:
        self._emit(pod, NORMAL, "Started", f"Started container {container}")

    def killing(self, pod: Obj, container: str, why: str = "") -> None:
        self._emit(pod, NORMAL, "Killing", why or f"Stopping container {container}")

    def failed_post_start_hook(self, pod: Obj, message: str) -> None:
        self._emit(pod, WARNING, "FailedPostStartHook", message)

    def failed_pre_stop_hook(self, pod: Obj, message: str) -> None:
        self._emit(pod, WARNING, "FailedPreStopHook", message)

    def evicted(self, pod: Obj, message: str) -> None:
        self._emit(pod, WARNING, "Evicted", message)

    def rejected(self, pod: Obj, reason: str, message: str) -> None:
        """Upstream rejectPod: the kubelet did not admit the pod."""
        self._emit(pod, WARNING, reason, message)

    def deadline_exceeded(self, pod: Obj, message: str) -> None:
        self._emit(pod, NORMAL, "DeadlineExceeded", message)

    def crash_backoff(self, pod: Obj, container: str) -> None:
        self._emit(pod, WARNING, "BackOff", f"Back-off restarting failed container {container} in pod {pod_ref(pod)}")

    def unhealthy(self, pod: Obj, message: str) -> None:
        self._emit(pod, WARNING, "Unhealthy", message)

    def failed_mount(self, pod: Obj, message: str) -> None:
        self._emit(pod, WARNING, "FailedMount", message)

    def sandbox_changed(self, pod: Obj) -> None:
        self._emit(pod, NORMAL, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")

    def sandbox_failed(self, pod: Obj, details: str) -> None:
        self._emit(pod, WARNING, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {details}")
