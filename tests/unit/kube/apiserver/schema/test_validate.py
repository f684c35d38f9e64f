"""Field validation as the apiserver applies `?fieldValidation=`: unknown and duplicate
fields obey the directive, wrong JSON types always fail, with upstream's messages."""

from __future__ import annotations

import copy
import json

import pytest

from lab.kube.apiserver.schema import check_fields, check_raw, subresource_kind
from lab.kube.machinery import catalog
from lab.kube.machinery.errors import BadRequest, Invalid

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"a": "b"}},
    "spec": {
        "containers": [{
            "name": "nginx", "image": "nginx",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}, "requests": {"cpu": 0.5}},
            "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
            "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        }],
        "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
                    {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "k", "path": "p"}]}}],
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
    },
    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
                                                   "lastTransitionTime": "2024-01-01T00:00:00Z"}]},
}


def pod(**changes: object) -> dict:
    """A copy of POD with `path.to.field=value` changes (list indices as digits)."""
    out = copy.deepcopy(POD)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = out
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value
    return out


def strict_message(exc: pytest.ExceptionInfo) -> str:
    return exc.value.message


def test_a_well_formed_pod_passes_under_every_directive():
    for directive in ("Strict", "Warn", "Ignore", ""):
        assert check_fields(catalog.PODS, POD, directive) == []


def test_an_unknown_field_inside_a_list_item_is_named_with_its_index():
    obj = pod(spec__containers__0__imag="typo")

    assert check_fields(catalog.PODS, obj, "Warn") == ['unknown field "spec.containers[0].imag"']
    assert check_fields(catalog.PODS, obj, "") == ['unknown field "spec.containers[0].imag"']
    assert check_fields(catalog.PODS, obj, "Ignore") == []
    with pytest.raises(BadRequest) as exc:
        check_fields(catalog.PODS, obj, "Strict")
    assert strict_message(exc) == ('Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
                                   'unknown field "spec.containers[0].imag"')


def test_several_unknown_fields_are_joined_in_document_order():
    obj = pod(spec__foo=1, metadata__bar="x")
    obj["spec"]["volumes"][1]["configMap"]["items"][0]["mod"] = 1

    with pytest.raises(BadRequest) as exc:
        check_fields(catalog.PODS, obj, "Strict")
    assert strict_message(exc).endswith(
        'strict decoding error: unknown field "metadata.bar", unknown field "spec.volumes[1].configMap.items[0].mod", '
        'unknown field "spec.foo"')


def test_map_values_are_free_keys_but_typed_values():
    assert check_fields(catalog.PODS, pod(metadata__labels={"any/key": "v", "x": ""}), "Strict") == []
    with pytest.raises(BadRequest) as exc:
        check_fields(catalog.PODS, pod(metadata__labels={"app": 5}), "Ignore")
    assert strict_message(exc) == ('Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number '
                                   'into Go struct field ObjectMeta.metadata.labels of type string')


@pytest.mark.parametrize(("change", "detail"), [
    ({"spec__containers": "nginx"},
     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container"),
    ({"spec__containers__0__ports__0__containerPort": "80"},
     ("json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort "
      "of type int32")),
    ({"spec__containers__0__ports__0__containerPort": 80.5},
     ("json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.containers.ports.containerPort "
      "of type int32")),
    ({"spec__containers__0__stdin": "yes"},
     "json: cannot unmarshal string into Go struct field Container.spec.containers.stdin of type bool"),
    ({"spec__affinity": []},
     "json: cannot unmarshal array into Go struct field PodSpec.spec.affinity of type v1.Affinity"),
    ({"metadata__creationTimestamp": 5},
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string"),
])
def test_a_wrong_json_type_fails_even_under_ignore(change, detail):
    with pytest.raises(BadRequest) as exc:
        check_fields(catalog.PODS, pod(**change), "Ignore")
    assert strict_message(exc) == f'Pod in version "v1" cannot be handled as a Pod: {detail}'


def test_a_wrong_type_wins_over_unknown_fields():
    with pytest.raises(BadRequest) as exc:
        check_fields(catalog.PODS, pod(spec__foo=1, spec__hostNetwork="true"), "Strict")
    assert "cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool" in strict_message(exc)


def test_int_or_string_takes_an_int_or_a_name_only():
    probe = "spec__containers__0__livenessProbe__httpGet__port"
    assert check_fields(catalog.PODS, pod(**{probe: 8080}), "Strict") == []
    assert check_fields(catalog.PODS, pod(**{probe: "http"}), "Strict") == []
    with pytest.raises(BadRequest) as exc:
        check_fields(catalog.PODS, pod(**{probe: True}), "Strict")
    assert strict_message(exc).endswith(
        "json: cannot unmarshal bool into Go struct field HTTPGetAction.spec.containers.livenessProbe.httpGet.port "
        "of type int32")


def test_quantities_are_strings_or_numbers_that_parse():
    limits = "spec__containers__0__resources__limits"
    assert check_fields(catalog.PODS, pod(**{limits: {"cpu": 1, "memory": "1.5Gi"}}), "Strict") == []
    with pytest.raises(BadRequest) as exc:
        check_fields(catalog.PODS, pod(**{limits: {"memory": "lots"}}), "Ignore")
    assert strict_message(exc).endswith(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_null_is_accepted_anywhere_like_a_go_zero_value():
    assert check_fields(catalog.PODS, pod(spec__affinity=None, metadata__labels=None), "Strict") == []


def test_free_form_fields_accept_anything():
    entry = {"manager": "kubectl", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:whatever": {}}}}
    assert check_fields(catalog.PODS, pod(metadata__managedFields=[entry]), "Strict") == []


def test_duplicate_fields_are_found_in_the_raw_body():
    body = ('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","name":"b"},'
            '"spec":{"replicas":1,"replicas":2,"selector":{},"template":{"metadata":{"labels":{"x":"1","x":"2"}}}}}')

    assert check_raw(catalog.DEPLOYMENTS, body.encode(), "Warn") == [
        'duplicate field "metadata.name"', 'duplicate field "spec.replicas"',
        'duplicate field "spec.template.metadata.labels.x"']
    with pytest.raises(BadRequest) as exc:
        check_raw(catalog.DEPLOYMENTS, body, "Strict")
    assert strict_message(exc).startswith('Deployment in version "v1" cannot be handled as a Deployment: '
                                          'strict decoding error: duplicate field "metadata.name", ')


def test_check_raw_agrees_with_check_fields_on_parsed_json():
    obj = pod(spec__containers__0__imag="x")
    assert check_raw(catalog.PODS, json.dumps(obj).encode(), "Warn") == check_fields(catalog.PODS, obj, "Warn")


def test_a_body_that_is_not_json_is_a_bad_request():
    with pytest.raises(BadRequest, match="json parse error"):
        check_raw(catalog.PODS, b"{nope", "Strict")


def test_secret_data_must_be_base64():
    assert check_fields(catalog.SECRETS, {"data": {"k": "aGVsbG8="}, "stringData": {"p": "x"}}, "Strict") == []
    with pytest.raises(BadRequest, match="illegal base64 data at input byte 5"):
        check_fields(catalog.SECRETS, {"data": {"k": "aGVsb!8="}}, "Ignore")


def test_an_unknown_directive_is_rejected_like_upstream():
    with pytest.raises(Invalid) as exc:
        check_fields(catalog.PODS, POD, "Loose", verb="patch")
    assert exc.value.message == ('PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: '
                                 '"Loose": supported values: "", "Ignore", "Strict", "Warn"')


def test_subresources_validate_against_their_own_kind():
    scale = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}, "spec": {"replicas": 3}}
    kind = subresource_kind(catalog.DEPLOYMENTS, "scale")
    assert check_fields(catalog.DEPLOYMENTS, scale, "Strict", definition=kind) == []
    with pytest.raises(BadRequest) as exc:
        check_fields(catalog.DEPLOYMENTS, {**scale, "spec": {"replica": 3}}, "Strict", definition=kind)
    assert strict_message(exc) == ('Scale in version "v1" cannot be handled as a Scale: strict decoding error: '
                                   'unknown field "spec.replica"')


def test_every_served_kind_accepts_a_minimal_object():
    for res in catalog.RESOURCES:
        obj = {"apiVersion": res.api_version, "kind": res.kind, "metadata": {"name": "x", "namespace": "default"}}
        assert check_fields(res, obj, "Strict") == [], res.kind
