"""apimachinery definitions: ObjectMeta, ListMeta, Status, DeleteOptions, Time, Quantity...

Shared by every group; names follow upstream (`io.k8s.apimachinery.pkg.apis.meta.v1.*`).
"""

from __future__ import annotations

from dataclasses import replace

from .types import I32, I64, SMAP, Arr, B, Desc, Group, S

meta = Group("io.k8s.apimachinery.pkg.apis.meta.v1")
resource = Group("io.k8s.apimachinery.pkg.api.resource")
intstr = Group("io.k8s.apimachinery.pkg.util.intstr")
runtime = Group("io.k8s.apimachinery.pkg.runtime")

QUANTITY = resource.scalar(
    "Quantity", "quantity",
    desc="Quantity is a fixed-point representation of a number, e.g. 100m, 1Gi or 0.5.")
INT_OR_STRING = intstr.scalar(
    "IntOrString", "int-or-string", format="int-or-string",
    desc="IntOrString is a type that can hold an int32 or a string.")
RAW = runtime.scalar(
    "RawExtension", "free-form", type="object",
    desc="RawExtension is used to hold extensions in external versions.")
TIME = meta.scalar(
    "Time", "time", format="date-time",
    desc="Time is a wrapper around time.Time, serialized as RFC 3339.")
MICRO_TIME = meta.scalar(
    "MicroTime", "time", format="date-time",
    desc="MicroTime is version of Time with microsecond level precision.")
FIELDS_V1 = meta.scalar(
    "FieldsV1", "free-form", type="object",
    desc="FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.")
PATCH = meta.scalar(
    "Patch", "free-form", type="object",
    desc="Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.")

OWNER_REFERENCE = meta.define("OwnerReference", {
    "apiVersion": S, "kind": S, "name": S, "uid": S,
    "controller": Desc(B, "If true, this reference points to the managing controller."),
    "blockOwnerDeletion": B,
}, required=("apiVersion", "kind", "name", "uid"),
    desc="OwnerReference contains enough information to let you identify an owning object.")

MANAGED_FIELDS = meta.define("ManagedFieldsEntry", {
    "apiVersion": S, "fieldsType": S, "fieldsV1": FIELDS_V1, "manager": S,
    "operation": S, "subresource": S, "time": TIME,
}, desc="ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource.")

OBJECT_META = meta.define("ObjectMeta", {
    "annotations": Desc(SMAP, "Annotations is an unstructured key value map stored with a resource."),
    "creationTimestamp": TIME,
    "deletionGracePeriodSeconds": I64,
    "deletionTimestamp": TIME,
    "finalizers": Arr(S, strategy="merge", list_type="set"),
    "generateName": Desc(S, "An optional prefix used by the server to generate a unique name."),
    "generation": I64,
    "labels": Desc(SMAP, "Map of string keys and values used to organize and select objects."),
    "managedFields": Arr(MANAGED_FIELDS, list_type="atomic"),
    "name": Desc(S, "Name must be unique within a namespace."),
    "namespace": Desc(S, "Namespace defines the space within which each name must be unique."),
    "ownerReferences": Arr(OWNER_REFERENCE, merge_key="uid", strategy="merge",
                           list_type="map", map_keys=("uid",)),
    "resourceVersion": Desc(S, "An opaque value that represents the internal version of this object."),
    "selfLink": S,
    "uid": S,
}, desc="ObjectMeta is metadata that all persisted resources must have.")

LIST_META = meta.define("ListMeta", {
    "continue": S, "remainingItemCount": I64, "resourceVersion": S, "selfLink": S,
}, desc="ListMeta describes metadata that synthetic resources must have.")

SELECTOR_REQUIREMENT = meta.define("LabelSelectorRequirement", {
    "key": S, "operator": S, "values": Arr(S, list_type="atomic"),
}, required=("key", "operator"),
    desc="A label selector requirement is a selector that contains values, a key, and an operator.")

LABEL_SELECTOR = meta.define("LabelSelector", {
    "matchExpressions": Arr(SELECTOR_REQUIREMENT, list_type="atomic"),
    "matchLabels": SMAP,
}, desc="A label selector is a label query over a set of resources.")

STATUS_CAUSE = meta.define("StatusCause", {"field": S, "message": S, "reason": S},
                           desc="StatusCause provides more information about an api.Status failure.")
STATUS_DETAILS = meta.define("StatusDetails", {
    "causes": Arr(STATUS_CAUSE, list_type="atomic"), "group": S, "kind": S, "name": S,
    "retryAfterSeconds": I32, "uid": S,
}, desc="StatusDetails is a set of additional properties that MAY be set by the server.")
STATUS = meta.define("Status", {
    "apiVersion": S, "code": I32, "details": STATUS_DETAILS, "kind": S, "message": S,
    "metadata": LIST_META, "reason": S, "status": S,
}, desc="Status is a return value for calls that don't return other objects.",
    gvk=("", "v1", "Status"))

CONDITION = meta.define("Condition", {
    "lastTransitionTime": TIME, "message": S, "observedGeneration": I64, "reason": S,
    "status": S, "type": S,
}, required=("type", "status", "lastTransitionTime", "reason", "message"),
    desc="Condition contains details for one aspect of the current state of this API Resource.")

PRECONDITIONS = meta.define("Preconditions", {"resourceVersion": S, "uid": S},
                            desc="Preconditions must be fulfilled before an operation is carried out.")
DELETE_OPTIONS = meta.define("DeleteOptions", {
    "apiVersion": S, "dryRun": Arr(S, list_type="atomic"), "gracePeriodSeconds": I64,
    "ignoreStoreReadErrorWithClusterBreakingPotential": B, "kind": S, "orphanDependents": B,
    "preconditions": PRECONDITIONS, "propagationPolicy": S,
}, desc="DeleteOptions may be provided when deleting an API object.")
DELETE_OPTIONS_GVKS = tuple(
    (g, v, "DeleteOptions")
    for g, v in (("", "v1"), ("apps", "v1"), ("discovery.k8s.io", "v1"),
                 ("coordination.k8s.io", "v1"), ("autoscaling", "v1"), ("meta.k8s.io", "v1"),
                 ("rbac.authorization.k8s.io", "v1")))

WATCH_EVENT = meta.define("WatchEvent", {
    "object": Desc(RAW, "Object is the object of the event: the full object for ADDED/MODIFIED/DELETED, "
                        "a Status for ERROR."),
    "type": S,
}, required=("type", "object"), desc="Event represents a single event to a watched resource.")

TABLE_COLUMN = meta.define("TableColumnDefinition", {
    "description": S, "format": S, "name": S, "priority": I32, "type": S,
}, required=("name", "type", "format", "description", "priority"),
    desc="TableColumnDefinition contains information about a column returned in the Table.")
TABLE_ROW = meta.define("TableRow", {
    "cells": Arr(RAW, list_type="atomic"), "conditions": Arr(RAW, list_type="atomic"), "object": RAW,
}, required=("cells",), desc="TableRow is an individual row in a table.")
TABLE = meta.define("Table", {
    "apiVersion": S, "columnDefinitions": Arr(TABLE_COLUMN, list_type="atomic"), "kind": S,
    "metadata": LIST_META, "rows": Arr(TABLE_ROW, list_type="atomic"),
}, required=("columnDefinitions", "rows"),
    desc="Table is a tabular representation of a set of API resources.",
    gvk=("meta.k8s.io", "v1", "Table"))

DEFINITIONS = {**meta.defs, **resource.defs, **intstr.defs, **runtime.defs}
# DeleteOptions is accepted in every group version, as upstream registers it.
DEFINITIONS[DELETE_OPTIONS.name] = replace(DEFINITIONS[DELETE_OPTIONS.name], gvk=DELETE_OPTIONS_GVKS)
