"""The API schema of every served kind, and server-side field validation against it.

Definitions are written per API group (`core_v1*.py`, `apps_v1.py`, ...) in the small
language of `types.py`, under upstream names (`io.k8s.api.core.v1.Pod`); the OpenAPI
documents (`lab.kube.apiserver.openapi`) are rendered from the same definitions.

Field validation, as the apiserver does it for `?fieldValidation=` (default "Warn"):

- `check_raw(resource, body, directive)` takes the raw JSON request body (create,
  update/PUT, and the patch body is *not* it: use `check_fields` on the patched
  result). It sees duplicate fields, which a parsed dict cannot show.
- `check_fields(resource, obj, directive)` takes an already decoded object.

Call one of them per request. Both return the warnings to send as `Warning:` headers
(`unknown field "spec.foo"`) under "Warn", nothing under "Ignore", and under "Strict"
raise `BadRequest('Deployment in version "v1" cannot be handled as a Deployment:
strict decoding error: unknown field "spec.foo", duplicate field "spec.replicas"')`.
A wrong JSON type raises `BadRequest` whatever the directive (`... cannot be handled
as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers
of type []v1.Container`). An unknown directive raises `Invalid` (422) as upstream.
For subresources pass `definition=subresource_kind(resource, "scale")` (or "binding"),
and `verb="update"|"patch"` to name UpdateOptions/PatchOptions in that 422.

`merge_keys(definition)` gives a strategic merge patch the lists of that kind which merge,
and their keys (`machinery.patches.MergeKeys`).
"""

from .patch_meta import merge_keys
from .registry import definitions, kind_name, list_name, reachable, subresource_kind
from .validate import DIRECTIVES, check_fields, check_raw

__all__ = [
    "DIRECTIVES", "check_fields", "check_raw", "definitions", "kind_name", "list_name",
    "merge_keys", "reachable", "subresource_kind",
]
