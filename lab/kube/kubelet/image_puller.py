"""Images for containers (upstream pkg/kubelet/images): imagePullPolicy, the pod's pull secrets,
the pull back-off (10 s doubling to 300 s per container), and the Pulling/Pulled/Failed/BackOff
events with upstream's texts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from lab.kube.kubelet import pull_secrets
from lab.kube.kubelet.backoff import Backoff
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError, Runtime
from lab.kube.kubelet.events import PodEvents
from lab.kube.kubelet.pod_status import Waiting
from lab.kube.kubelet.volumes.objects import ObjectGetter
from lab.kube.machinery import errors, meta
from lab.kube.machinery.objects import Obj


@dataclass(frozen=True)
class Retry:
    """The image is not there: the container waits (`waiting`), to be tried again `after` seconds."""

    waiting: Waiting
    after: float | None = None


def pull_policy(container: Obj) -> str:
    """The API server defaults this; fall back to its rule (`:latest` or no tag means Always)."""
    if container.get("imagePullPolicy"):
        return str(container["imagePullPolicy"])
    image = container.get("image", "")
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    return "Always" if ":" not in last or last.endswith(":latest") else "IfNotPresent"


class ImagePuller:
    def __init__(self, runtime: Runtime, events: PodEvents, clock: Callable[[], float] = time.time,
                 objects: ObjectGetter | None = None) -> None:
        """`objects` reads the pods' pull Secrets."""
        self.runtime, self.events, self.clock, self.objects = runtime, events, clock, objects
        self.backoff = Backoff(clock=clock)
        self._failed_at: dict[str, float] = {}

    async def ensure(self, pod: Obj, spec: Obj, config: pb.PodSandboxConfig) -> Retry | None:
        """None once the container's image is on the node, else why it is not (yet)."""
        image, policy = spec.get("image", ""), pull_policy(spec)
        key = f"{meta.uid(pod)}/{spec['name']}/pull"
        if policy != "Always" and await self.runtime.image_status(image) is not None:
            self.events.already_present(pod, image)
            return None
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            self.events.never_pull(pod, message)
            return Retry(Waiting("ErrImageNeverPull", message))
        wait = self.backoff.remaining(key, self._failed_at.get(key, 0.0))
        if wait > 0:
            self.events.pull_backoff(pod, image)
            return Retry(Waiting("ImagePullBackOff", f'Back-off pulling image "{image}"'), wait)
        entries, unreadable = await pull_secrets.keyring(pod, self.objects)
        if unreadable:
            self.events.pull_secrets_unreadable(pod, unreadable)
        self.events.pulling(pod, image)
        started = time.monotonic()
        try:
            await self._pull(image, config, pull_secrets.lookup(entries, image))
        except CRIError as exc:
            self.backoff.next(key)
            self._failed_at[key] = self.clock()
            self.events.pull_failed(pod, image, exc.details)
            return Retry(Waiting("ErrImagePull", exc.details), self.backoff.get(key))
        took = time.monotonic() - started
        pulled = await self.runtime.image_status(image)
        self.events.pulled(pod, image, took, pulled.size if pulled is not None else 0)
        self.backoff.reset(key)
        return None

    async def _pull(self, image: str, config: pb.PodSandboxConfig, credentials: list[pb.AuthConfig]) -> None:
        """Anonymously without credentials, else with each matching one until one works (upstream's puller)."""
        if not credentials:
            await self.runtime.pull_image(image, config)
            return
        failures: list[str] = []
        for auth in credentials:
            try:
                await self.runtime.pull_image(image, config, auth)
                return
            except CRIError as exc:
                failures.append(exc.details)
        raise CRIError("PullImage", "UNKNOWN", errors.aggregate(failures))

    def forget(self, uid: str) -> None:
        self.backoff.forget_prefix(f"{uid}/")
