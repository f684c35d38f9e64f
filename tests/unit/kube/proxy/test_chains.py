"""Chain names must hash exactly as upstream's, so rules match on every node and restart."""

from lab.kube.proxy.chains import (
    endpoint_chain,
    masquerade_mark,
    service_chain,
    service_port_name,
)


def test_service_chains_match_the_names_upstream_kube_proxy_uses() -> None:
    assert service_chain("default/kubernetes:https", "tcp") == "KUBE-SVC-NPX46M4PTMTKRN6Y"
    assert service_chain("kube-system/kube-dns:dns", "udp") == "KUBE-SVC-TCOU7JCQXEZGVUNU"


def test_protocol_is_hashed_lower_case() -> None:
    assert service_chain("default/kubernetes:https", "TCP") == "KUBE-SVC-NPX46M4PTMTKRN6Y"


def test_endpoint_chains_differ_per_endpoint_and_fit_iptables_limits() -> None:
    a = endpoint_chain("default/web:http", "tcp", "10.244.1.5:8080")
    b = endpoint_chain("default/web:http", "tcp", "10.244.1.6:8080")
    assert a != b and a.startswith("KUBE-SEP-")
    assert len(a) == 25  # iptables allows 28 characters


def test_unnamed_ports_leave_the_port_name_out() -> None:
    assert service_port_name("default", "web", "") == "default/web"
    assert service_port_name("default", "web", "http") == "default/web:http"


def test_the_masquerade_mark_is_bit_14() -> None:
    assert masquerade_mark() == "0x4000"
