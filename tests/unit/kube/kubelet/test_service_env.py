"""Service environment variables as upstream's kubelet writes them."""

from __future__ import annotations

from typing import Any

from lab.kube.kubelet.container_env import environment
from lab.kube.kubelet.service_env import service_environment


def svc(name: str, namespace: str, ip: str, *ports: dict[str, Any], kind: str = "ClusterIP") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace},
            "spec": {"type": kind, "clusterIP": ip, "ports": list(ports)}}


KUBERNETES = svc("kubernetes", "default", "10.96.0.1", {"name": "https", "port": 443, "protocol": "TCP"})
WEB = svc("my-web", "shop", "10.96.3.4", {"name": "http", "port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"})
HEADLESS = svc("headless", "shop", "None", {"port": 80})
OTHER_NS = svc("db", "other", "10.96.9.9", {"port": 5432})


def pod(namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": namespace}, "spec": spec}


def test_the_master_service_and_the_namespace_services() -> None:
    env = service_environment(pod(), [KUBERNETES, WEB, HEADLESS, OTHER_NS])
    assert env == {
        "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443", "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443", "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443", "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
        "MY_WEB_SERVICE_HOST": "10.96.3.4", "MY_WEB_SERVICE_PORT": "80", "MY_WEB_SERVICE_PORT_HTTP": "80",
        "MY_WEB_SERVICE_PORT_DNS": "53", "MY_WEB_PORT": "tcp://10.96.3.4:80",
        "MY_WEB_PORT_80_TCP": "tcp://10.96.3.4:80", "MY_WEB_PORT_80_TCP_PROTO": "tcp", "MY_WEB_PORT_80_TCP_PORT": "80",
        "MY_WEB_PORT_80_TCP_ADDR": "10.96.3.4", "MY_WEB_PORT_53_UDP": "udp://10.96.3.4:53",
        "MY_WEB_PORT_53_UDP_PROTO": "udp", "MY_WEB_PORT_53_UDP_PORT": "53", "MY_WEB_PORT_53_UDP_ADDR": "10.96.3.4"}


def test_enable_service_links_false_keeps_only_the_master_service() -> None:
    env = service_environment(pod(enableServiceLinks=False), [KUBERNETES, WEB])
    assert sorted({k.split("_")[0] for k in env}) == ["KUBERNETES"]


def test_the_pods_own_namespace_wins_a_name_clash_in_default() -> None:
    own = svc("kubernetes", "default", "10.96.0.1", {"port": 443})
    assert service_environment(pod("default"), [own])["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    mine = svc("kubernetes", "shop", "10.96.7.7", {"port": 8443})
    assert service_environment(pod(), [KUBERNETES, mine])["KUBERNETES_SERVICE_PORT"] == "8443"


async def test_container_env_comes_first_and_may_use_service_variables() -> None:
    container = {"name": "c", "env": [{"name": "API", "value": "https://$(KUBERNETES_SERVICE_HOST):443"},
                                      {"name": "KUBERNETES_SERVICE_PORT", "value": "6443"}]}
    env = (await environment(pod(), container, pod_ip="10.244.1.5", node_name="w1", services=[KUBERNETES])).variables
    assert list(env)[:2] == ["API", "KUBERNETES_SERVICE_PORT"]
    assert env["API"] == "https://10.96.0.1:443"
    assert env["KUBERNETES_SERVICE_PORT"] == "6443"  # the container's own value wins
    assert env["KUBERNETES_PORT_443_TCP_ADDR"] == "10.96.0.1"
