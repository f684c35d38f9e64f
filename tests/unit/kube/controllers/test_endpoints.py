"""Endpoints and EndpointSlices follow the pods a Service selects."""

from lab.kube.controllers.endpoints import EndpointsController, build_subsets
from lab.kube.controllers.endpointslice import (
    CONTROLLER_NAME,
    EndpointSliceController,
    desired_slices,
)
from lab.kube.machinery import catalog, meta
from tests.support import eventually
from tests.unit.kube.controllers.harness import ready, running, template


def _svc(target: object = "http", selector: dict | None = None) -> dict:
    spec: dict = {"ports": [{"name": "web", "port": 80, "protocol": "TCP", "targetPort": target}]}
    if selector is not False:
        spec["selector"] = selector or {"app": "web"}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": spec}


def _pod(name: str, ip: str, is_ready: bool = True, labels: dict | None = None) -> dict:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "default", "uid": f"u-{name}", "labels": labels or {"app": "web"}},
           "spec": {**template({})["spec"], "nodeName": "w1"}}
    pod = ready(pod, ip)
    if not is_ready:
        pod["status"]["conditions"][0]["status"] = "False"
    return pod


def test_subsets_split_ready_and_not_ready_and_resolve_named_ports() -> None:
    subsets = build_subsets(_svc(), [_pod("a", "10.244.0.3"), _pod("b", "10.244.0.2"),
                                     _pod("c", "10.244.1.2", is_ready=False)])
    assert subsets == [{
        "addresses": [
            {"ip": "10.244.0.2", "nodeName": "w1",
             "targetRef": {"kind": "Pod", "namespace": "default", "name": "b", "uid": "u-b"}},
            {"ip": "10.244.0.3", "nodeName": "w1",
             "targetRef": {"kind": "Pod", "namespace": "default", "name": "a", "uid": "u-a"}}],
        "notReadyAddresses": [{"ip": "10.244.1.2", "nodeName": "w1",
                               "targetRef": {"kind": "Pod", "namespace": "default", "name": "c", "uid": "u-c"}}],
        "ports": [{"port": 8080, "protocol": "TCP", "name": "web"}],
    }]


def test_numeric_target_port_and_slices_of_at_most_n() -> None:
    pods = [_pod(f"p{i}", f"10.244.0.{i + 10}") for i in range(5)]
    slices = desired_slices(_svc(target=9090), pods, max_per_slice=2)
    assert [len(eps) for _, eps in slices] == [2, 2, 1]
    ports, eps = slices[0]
    assert ports == [{"port": 9090, "protocol": "TCP", "name": "web"}]
    assert eps[0]["conditions"] == {"ready": True, "serving": True, "terminating": False}


async def test_controllers_publish_and_update_endpoints() -> None:
    async with running(EndpointsController, EndpointSliceController) as (api, _):
        await api.seed(catalog.SERVICES, _svc())
        await api.seed(catalog.PODS, _pod("a", "10.244.0.5"))
        await api.seed(catalog.PODS, _pod("other", "10.244.0.6", labels={"app": "db"}))

        def addresses_are(*ips: str):  # type: ignore[no-untyped-def]
            async def check() -> bool:
                ep = await api.object(catalog.ENDPOINTS, "web", "default") or {}
                return [a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []] == list(ips)
            return check

        async def web_slices() -> list[dict]:
            return [s for s in await api.objects(catalog.ENDPOINTSLICES, "default")
                    if meta.labels(s).get("kubernetes.io/service-name") == "web"]

        async def two_endpoints() -> bool:
            return sum(len(s.get("endpoints") or []) for s in await web_slices()) == 2

        await eventually(addresses_are("10.244.0.5"))
        slices = await eventually(web_slices)
        s = slices[0]
        assert meta.name(s).startswith("web-") and s["addressType"] == "IPv4"
        assert meta.labels(s) == {"kubernetes.io/service-name": "web",
                                  "endpointslice.kubernetes.io/managed-by": CONTROLLER_NAME}
        assert s["metadata"]["ownerReferences"][0]["kind"] == "Service"
        await api.seed(catalog.PODS, _pod("b", "10.244.1.5"))
        await eventually(addresses_are("10.244.0.5", "10.244.1.5"))
        await eventually(two_endpoints)
        assert len(await web_slices()) == 1  # updated in place, not duplicated


async def test_services_without_selector_and_the_kubernetes_service_are_left_alone() -> None:
    async with running(EndpointsController) as (api, _):
        manual = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
                  "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}]}
        await api.seed(catalog.ENDPOINTS, manual)
        await api.seed(catalog.SERVICES, _svc(selector=False))
        # the API server's own Service and Endpoints: even selecting pods, they are not the controller's
        apiserver = await api.object(catalog.ENDPOINTS, "kubernetes", "default")
        kube = await api.object(catalog.SERVICES, "kubernetes", "default")
        await api.update(catalog.SERVICES, {**kube, "spec": {**kube["spec"], "selector": {"app": "web"}}})  # type: ignore[index,dict-item]
        await api.seed(catalog.PODS, _pod("a", "10.244.0.5"))
        await api.seed(catalog.SERVICES, {**_svc(), "metadata": {"name": "probe", "namespace": "default"}})
        await eventually(lambda: api.object(catalog.ENDPOINTS, "probe", "default"))  # the controller is alive
        web = await api.object(catalog.ENDPOINTS, "web", "default")
        assert web["subsets"][0]["addresses"][0]["ip"] == "192.0.2.1"  # type: ignore[index]
        assert await api.object(catalog.ENDPOINTS, "kubernetes", "default") == apiserver
