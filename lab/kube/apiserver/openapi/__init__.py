"""The OpenAPI documents kubectl downloads, rendered from `lab.kube.apiserver.schema`.

- `/openapi/v2` → `v2_protobuf()` when the client asks for
  `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (kubectl 1.27/1.28, also
  at `/swagger-2.0.0.pb-v1`), else `v2_json()`.
- `/openapi/v3` → `v3_index()`; `/openapi/v3/<gv>` → `v3_document(gv)` (None → 404),
  e.g. `v3_document("apis/apps/v1")`. The `?hash=` in the index changes with the content,
  so those responses may be sent with `Cache-Control: public, immutable`.
Everything is built once and cached; callers must not mutate the returned dicts.
"""

from .v2 import v2_json, v2_protobuf
from .v3 import v3_document, v3_index

# What kubectl puts in Accept, and what the apiserver answers in Content-Type: Go's mime
# parser rejects the "@" form, so the response uses a dot.
PROTOBUF_V2_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
PROTOBUF_V2_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

__all__ = ["PROTOBUF_V2_ACCEPT", "PROTOBUF_V2_CONTENT_TYPE", "v2_json", "v2_protobuf", "v3_document", "v3_index"]
