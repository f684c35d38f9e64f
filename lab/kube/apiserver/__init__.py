"""kube-apiserver: etcd-backed storage, per-resource strategies, and the REST edge.

Flow of a request: rest (routing, negotiation, Status at one edge) -> registry (generic
create/update/delete/watch) -> strategy (what is special about one resource) -> storage.
"""
