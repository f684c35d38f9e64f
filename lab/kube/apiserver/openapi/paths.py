"""The REST operations of every catalog resource, as OpenAPI v2 path items.

Operation ids, actions and parameters follow upstream's generated spec, notably the
`fieldValidation` query parameter on POST/PUT/PATCH: kubectl looks for it on the
PATCH operation of a kind and then validates server-side (`fieldValidation=Strict`).
"""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.schema import kind_name, list_name, subresource_kind
from lab.kube.machinery import catalog

DEFS = "#/definitions/"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
WATCH_EVENT = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"

PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
WATCH_PRODUCES = [*PRODUCES, "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"]
PATCH_CONSUMES = ["application/json-patch+json", "application/merge-patch+json",
                  "application/strategic-merge-patch+json", "application/apply-patch+yaml"]

_QUERY_DOCS = {
    "allowWatchBookmarks": ("boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
    "continue": ("string", "The continue option should be set when retrieving more results from the server."),
    "dryRun": ("string", "When present, indicates that modifications should not be persisted."),
    "fieldManager": ("string", ("fieldManager is a name associated with the actor or entity that is making "
                               "these changes.")),
    "fieldSelector": ("string", "A selector to restrict the list of returned objects by their fields."),
    "fieldValidation": ("string", ("fieldValidation instructs the server on how to handle objects in the request "
                                  "containing unknown or duplicate fields: Ignore, Warn (default) or Strict.")),
    "force": ("boolean", "Force is going to \"force\" Apply requests."),
    "gracePeriodSeconds": ("integer", "The duration in seconds before the object should be deleted."),
    "labelSelector": ("string", "A selector to restrict the list of returned objects by their labels."),
    "limit": ("integer", "limit is a maximum number of responses to return for a list call."),
    "orphanDependents": ("boolean", "Deprecated: please use the PropagationPolicy."),
    "pretty": ("string", "If 'true', then the output is pretty printed."),
    "propagationPolicy": ("string", ("Whether and how garbage collection will be performed: Orphan, Background "
                                    "or Foreground.")),
    "resourceVersion": ("string", ("resourceVersion sets a constraint on what resource versions a request may "
                                  "be served from.")),
    "resourceVersionMatch": ("string", ("resourceVersionMatch determines how resourceVersion is applied to list "
                                       "calls.")),
    "sendInitialEvents": ("boolean", "`sendInitialEvents=true` may be set together with `watch=true`."),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call."),
    "watch": ("boolean", ("Watch for changes to the described resources and return them as a stream of add, "
                         "update, and remove notifications.")),
}
LIST_PARAMS = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
               "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch")
WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
DELETE_PARAMS = ("dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy")


def query(name: str) -> dict[str, Any]:
    typ, doc = _QUERY_DOCS[name]
    return {"name": name, "in": "query", "type": typ, "uniqueItems": True, "description": doc}


def path_param(name: str, kind: str) -> dict[str, Any]:
    doc = "object name and auth scope, such as for teams and projects" if name == "namespace" else f"name of the {kind}"
    return {"name": name, "in": "path", "required": True, "type": "string", "uniqueItems": True, "description": doc}


def body(definition: str, required: bool = True) -> dict[str, Any]:
    return {"name": "body", "in": "body", "required": required, "schema": {"$ref": DEFS + definition}}


def responses(definition: str, *codes: str) -> dict[str, Any]:
    text = {"200": "OK", "201": "Created", "202": "Accepted"}
    out: dict[str, Any] = {c: {"description": text[c], "schema": {"$ref": DEFS + definition}} for c in codes}
    out["401"] = {"description": "Unauthorized"}
    return out


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


class _Ops:
    """Builds the operations of one resource; `ident` is e.g. `CoreV1` and `tag` `core_v1`."""

    def __init__(self, res: catalog.Resource) -> None:
        self.res = res
        group = res.group.split(".")[0] if res.group else "core"
        self.ident = group[0].upper() + group[1:] + res.version[0].upper() + res.version[1:]
        self.tag = f"{group}_{res.version}"

    def op(self, verb: str, name: str, action: str, params: list[dict[str, Any]], resp: dict[str, Any], *,
           gvk: dict[str, str] | None = None, consumes: list[str] | None = None, doc: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {
            "description": doc or f"{verb} {name}",
            "consumes": consumes or ["*/*"],
            "produces": WATCH_PRODUCES if action.startswith("watch") or action == "list" else PRODUCES,
            "schemes": ["https"],
            "tags": [self.tag],
            "operationId": verb + self.ident + name,
            "parameters": params,
            "responses": resp,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk or _gvk(self.res.group, self.res.version, self.res.kind),
        }
        return out


def resource_paths(res: catalog.Resource) -> dict[str, dict[str, Any]]:
    """Path items (`/api/v1/namespaces/{namespace}/pods/{name}` → operations) of one resource."""
    o = _Ops(res)
    kind, obj, lst = res.kind, kind_name(res), list_name(res)
    ns = "Namespaced" if res.namespaced else ""
    prefix = f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"
    scope = f"{prefix}/namespaces/{{namespace}}" if res.namespaced else prefix
    watch_scope = scope.replace(prefix, f"{prefix}/watch", 1)
    scope_params = [path_param("namespace", kind)] if res.namespaced else []
    item_params = [path_param("name", kind), *scope_params]
    pretty = [query("pretty")]
    listq = [query(p) for p in LIST_PARAMS]
    writeq = [query(p) for p in WRITE_PARAMS]
    patchq = [*writeq, query("force")]
    deleteq = [query(p) for p in DELETE_PARAMS]

    paths: dict[str, dict[str, Any]] = {
        f"{scope}/{res.plural}": {
            "get": o.op("list", f"{ns}{kind}", "list", listq, responses(lst, "200"),
                        doc=f"list or watch objects of kind {kind}"),
            "post": o.op("create", f"{ns}{kind}", "post", [body(obj), *writeq], responses(obj, "200", "201", "202"),
                         doc=f"create a {kind}"),
            "delete": o.op("delete", f"Collection{ns}{kind}", "deletecollection",
                           [body(DELETE_OPTIONS, False), query("continue"), *deleteq,
                            *[query(p) for p in LIST_PARAMS[2:]]],
                           responses(STATUS, "200"), doc=f"delete collection of {kind}"),
            "parameters": [*scope_params, *pretty],
        },
        f"{scope}/{res.plural}/{{name}}": {
            "get": o.op("read", f"{ns}{kind}", "get", [], responses(obj, "200"), doc=f"read the specified {kind}"),
            "put": o.op("replace", f"{ns}{kind}", "put", [body(obj), *writeq], responses(obj, "200", "201"),
                        doc=f"replace the specified {kind}"),
            "delete": o.op("delete", f"{ns}{kind}", "delete", [body(DELETE_OPTIONS, False), *deleteq],
                           responses(STATUS, "200", "202"), doc=f"delete a {kind}"),
            "patch": o.op("patch", f"{ns}{kind}", "patch", [body(PATCH), *patchq], responses(obj, "200", "201"),
                          consumes=PATCH_CONSUMES, doc=f"partially update the specified {kind}"),
            "parameters": [*item_params, *pretty],
        },
        f"{watch_scope}/{res.plural}": {
            "get": o.op("watch", f"{ns}{kind}List", "watchlist", [], responses(WATCH_EVENT, "200"),
                        doc=f"watch individual changes to a list of {kind}"),
            "parameters": [*scope_params, *pretty, *listq],
        },
        f"{watch_scope}/{res.plural}/{{name}}": {
            "get": o.op("watch", f"{ns}{kind}", "watch", [], responses(WATCH_EVENT, "200"),
                        doc=f"watch changes to an object of kind {kind}"),
            "parameters": [*item_params, *pretty, *listq],
        },
    }
    if res.namespaced:
        paths[f"{prefix}/{res.plural}"] = {
            "get": o.op("list", f"{kind}ForAllNamespaces", "list", [], responses(lst, "200"),
                        doc=f"list or watch objects of kind {kind}"),
            "parameters": [*pretty, *listq],
        }
        paths[f"{prefix}/watch/{res.plural}"] = {
            "get": o.op("watch", f"{kind}ListForAllNamespaces", "watchlist", [], responses(WATCH_EVENT, "200"),
                        doc=f"watch individual changes to a list of {kind}"),
            "parameters": [*pretty, *listq],
        }
    for sub in res.subresources:
        paths[f"{scope}/{res.plural}/{{name}}/{sub}"] = _subresource(o, res, sub, ns, item_params, pretty, writeq,
                                                                     patchq)
    return paths


def _subresource(o: _Ops, res: catalog.Resource, sub: str, ns: str, item_params: list[dict[str, Any]],
                 pretty: list[dict[str, Any]], writeq: list[dict[str, Any]],
                 patchq: list[dict[str, Any]]) -> dict[str, Any]:
    target = subresource_kind(res, sub)
    short = target.rsplit(".", 1)[-1]
    name = f"{ns}{res.kind}{sub[0].upper()}{sub[1:]}"
    gvk = None
    if sub == "scale":
        gvk = _gvk("autoscaling", "v1", "Scale")
    elif sub == "binding":
        gvk = _gvk("", "v1", "Binding")
    elif sub == "token":
        gvk = _gvk("authentication.k8s.io", "v1", "TokenRequest")
    params = [path_param("name", short if sub != "status" else res.kind), *item_params[1:]]
    if sub == "log":  # pods/log: text, read only
        return {"get": _pod_log_op(o, name), "parameters": [*params, *pretty]}
    if sub in CONNECT_QUERY:  # upgraded streams: GET (WebSocket) and POST (SPDY)
        return {"get": _connect_op(o, "get", name, sub), "post": _connect_op(o, "post", name, sub),
                "parameters": params}
    if sub in ("binding", "token"):  # create-only subresources
        return {"post": o.op("create", name, "post", [body(target), *writeq], responses(target, "200", "201", "202"),
                             gvk=gvk, doc=f"create {sub} of a {res.kind}"),
                "parameters": [*params, *pretty]}
    return {
        "get": o.op("read", name, "get", [], responses(target, "200"), gvk=gvk,
                    doc=f"read {sub} of the specified {res.kind}"),
        "put": o.op("replace", name, "put", [body(target), *writeq], responses(target, "200", "201"), gvk=gvk,
                    doc=f"replace {sub} of the specified {res.kind}"),
        "patch": o.op("patch", name, "patch", [body(PATCH), *patchq], responses(target, "200", "201"), gvk=gvk,
                      consumes=PATCH_CONSUMES, doc=f"partially update {sub} of the specified {res.kind}"),
        "parameters": [*params, *pretty],
    }


LOG_QUERY = (("container", "string", "The container for which to stream logs."),
             ("follow", "boolean", "Follow the log stream of the pod."),
             ("insecureSkipTLSVerifyBackend", "boolean", "Do not verify the serving certificate of the kubelet."),
             ("limitBytes", "integer", "The number of bytes to read from the server before terminating."),
             ("previous", "boolean", "Return previous terminated container logs."),
             ("sinceSeconds", "integer", "A relative time in seconds before the current time to show logs from."),
             ("tailLines", "integer", "The number of lines from the end of the logs to show."),
             ("timestamps", "boolean", "Add an RFC3339 timestamp at the beginning of every line."))


CONNECT_QUERY = {
    "exec": (("command", "string", "Command is the remote command to execute. argv array."),
             ("container", "string", "Container in which to execute the command."),
             ("stderr", "boolean", "Redirect the standard error stream of the pod for this call."),
             ("stdin", "boolean", "Redirect the standard input stream of the pod for this call."),
             ("stdout", "boolean", "Redirect the standard output stream of the pod for this call."),
             ("tty", "boolean", "TTY if true indicates that a tty will be allocated for the exec call.")),
    "attach": (("container", "string", "The container in which to execute the command."),
               ("stderr", "boolean", "Stderr if true indicates that stderr is to be redirected."),
               ("stdin", "boolean", "Stdin if true, redirects the standard input stream of the pod."),
               ("stdout", "boolean", "Stdout if true indicates that stdout is to be redirected."),
               ("tty", "boolean", "TTY if true indicates that a tty will be allocated for the attach call.")),
    "portforward": (("ports", "integer", "List of ports to forward"),),
}


def _connect_op(o: _Ops, method: str, name: str, sub: str) -> dict[str, Any]:
    kind = {"exec": "PodExecOptions", "attach": "PodAttachOptions", "portforward": "PodPortForwardOptions"}[sub]
    op = o.op("connect", f"{method.capitalize()}{name}", "connect", [],
              {"200": {"description": "OK", "schema": {"type": "string"}}, "401": {"description": "Unauthorized"}},
              gvk=_gvk("", "v1", kind), doc=f"connect {method.upper()} requests to {sub} of Pod")
    op["operationId"] = f"connect{o.ident}{method.capitalize()}{name}"
    op["produces"] = ["*/*"]
    op["parameters"] = [{"name": n, "in": "query", "type": kind_, "uniqueItems": True, "description": doc}
                        for n, kind_, doc in CONNECT_QUERY[sub]]
    return op


def _pod_log_op(o: _Ops, name: str) -> dict[str, Any]:
    op = o.op("read", name, "get", [], {"200": {"description": "OK", "schema": {"type": "string"}},
                                        "401": {"description": "Unauthorized"}},
              doc="read log of the specified Pod")
    op["produces"] = ["text/plain", "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
    op["parameters"] = [{"name": n, "in": "query", "type": kind, "uniqueItems": True, "description": doc}
                        for n, kind, doc in LOG_QUERY]
    return op


def all_paths(resources: tuple[catalog.Resource, ...] = catalog.RESOURCES) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for res in resources:
        out.update(resource_paths(res))
    return dict(sorted(out.items()))
