"""Admission: plugins that see every write with who made it, after defaulting and before
storage (upstream `admission.Interface`; `--enable-admission-plugins`).

The access edge records each request's attributes in `current_request`; the registry builds
an `AdmissionRequest` for create, update (PUT, PATCH, subresources) and delete and hands it
to the chain, whose plugins raise an `APIError` (Forbidden, Invalid) to refuse it. Writes the
server makes itself (bootstrap, allocator repair) carry no request and are not admitted.
"""

from lab.kube.apiserver.admission.chain import (
    AdmissionChain,
    AdmissionPlugin,
    AdmissionRequest,
    Operation,
    current_request,
    refuse,
)

__all__ = ["AdmissionChain", "AdmissionPlugin", "AdmissionRequest", "Operation", "current_request", "refuse"]
