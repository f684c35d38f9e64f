"""Creating and deleting a controller's pods with upstream's Events on the owner
(`RealPodControl`): SuccessfulCreate / FailedCreate, SuccessfulDelete."""

from __future__ import annotations

from lab.kube.client import Client
from lab.kube.client.events import NORMAL, WARNING, EventRecorder
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj


async def create_pod(client: Client, recorder: EventRecorder, owner: Obj, body: Obj) -> Obj:
    """Create `body` in the owner's namespace; a refusal is a FailedCreate Event and raised."""
    try:
        pod: Obj = await client.create(catalog.PODS, body, meta.namespace(owner))
    except errors.APIError as exc:
        recorder.event(owner, WARNING, "FailedCreate", f"Error creating: {exc}")
        raise
    recorder.event(owner, NORMAL, "SuccessfulCreate", f"Created pod: {meta.name(pod)}")
    return pod


async def delete_pod(client: Client, recorder: EventRecorder, owner: Obj, pod: Obj) -> bool:
    """Delete `pod` if it is still the same pod (uid precondition); False when it is gone or
    replaced, other errors raised."""
    try:
        await client.delete(catalog.PODS, meta.name(pod), meta.namespace(pod), preconditions={"uid": meta.uid(pod)})
    except (errors.NotFound, errors.Conflict):
        return False
    recorder.event(owner, NORMAL, "SuccessfulDelete", f"Deleted pod: {meta.name(pod)}")
    return True
