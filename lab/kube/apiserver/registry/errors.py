"""Storage errors to API errors, with upstream messages naming the resource and object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lab.kube.apiserver import storage as st
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import Resource

CONFLICT_MESSAGE = ("Operation cannot be fulfilled on {gr} \"{name}\": the object has been "
                    "modified; please apply your changes to the latest version and try again")


def too_large(detail: str) -> errors.RequestEntityTooLarge:
    return errors.RequestEntityTooLarge(f"Request entity too large: {detail}")


def not_found(resource: Resource, name: str) -> errors.NotFound:
    return errors.NotFound(f'{resource.group_resource} "{name}" not found', name=name,
                           kind=resource.plural, group=resource.group)


def conflict(resource: Resource, name: str) -> errors.Conflict:
    return errors.Conflict(CONFLICT_MESSAGE.format(gr=resource.group_resource, name=name),
                           name=name, kind=resource.plural, group=resource.group)


def expired(exc: st.Compacted) -> errors.Expired:
    return errors.Expired(f"too old resource version: {exc.requested} ({exc.compacted})")


@contextmanager
def api_errors(resource: Resource, name: str = "") -> Iterator[None]:
    """Translate typed storage errors raised inside the block."""
    try:
        yield
    except st.KeyNotFound as exc:
        raise not_found(resource, name) from exc
    except st.KeyExists as exc:
        raise errors.AlreadyExists(f'{resource.group_resource} "{name}" already exists', name=name,
                                   kind=resource.plural, group=resource.group) from exc
    except st.Conflict as exc:
        raise conflict(resource, name) from exc
    except st.Compacted as exc:
        raise expired(exc) from exc
    except st.TooLarge as exc:
        raise too_large(str(exc)) from exc
    except st.Unavailable as exc:
        raise errors.ServiceUnavailable(str(exc), retry_after=1) from exc
