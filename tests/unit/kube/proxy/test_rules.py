"""The rule builder: Services and EndpointSlices in, upstream iptables-restore text out."""

from __future__ import annotations

from lab.kube.proxy.chains import endpoint_chain, service_chain
from lab.kube.proxy.model import service_ports
from lab.kube.proxy.rules import build_rules, probability

from .objects import endpoint, endpoint_slice, service

WEB = service("web", "10.96.0.10", ("http", 80, "TCP"))
WEB_SLICE = endpoint_slice("web", [endpoint("10.244.1.5"), endpoint("10.244.1.6"), endpoint("10.244.1.7")],
                           ("http", 8080, "TCP"))

GOLDEN_NAT = """\
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]
:KUBE-SEP-AFGSLHOD2HFNCBX4 - [0:0]
:KUBE-SEP-F7BHZ7WL3PFYMSRY - [0:0]
:KUBE-SEP-A4JCWMD6AMIS43DD - [0:0]
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment default/web:http -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-AFGSLHOD2HFNCBX4
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment default/web:http -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-F7BHZ7WL3PFYMSRY
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment default/web:http -j KUBE-SEP-A4JCWMD6AMIS43DD
-A KUBE-SEP-AFGSLHOD2HFNCBX4 -m comment --comment default/web:http -s 10.244.1.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-AFGSLHOD2HFNCBX4 -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-F7BHZ7WL3PFYMSRY -m comment --comment default/web:http -s 10.244.1.6 -j KUBE-MARK-MASQ
-A KUBE-SEP-F7BHZ7WL3PFYMSRY -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.6:8080
-A KUBE-SEP-A4JCWMD6AMIS43DD -m comment --comment default/web:http -s 10.244.1.7 -j KUBE-MARK-MASQ
-A KUBE-SEP-A4JCWMD6AMIS43DD -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.7:8080
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT"""  # noqa: E501  verbatim iptables-restore text as upstream kube-proxy writes it; one rule per line

GOLDEN_FILTER = """\
*filter
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT"""  # noqa: E501  verbatim iptables-restore text as upstream kube-proxy writes it; one rule per line


def build(services: list[dict], slices: list[dict], **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("cluster_cidr", "10.244.0.0/16")
    return build_rules(service_ports(services, slices), **kw)  # type: ignore[arg-type]


def test_one_service_with_three_endpoints_gives_the_upstream_rules() -> None:
    rules = build([WEB], [WEB_SLICE])
    assert "\n".join(rules.nat_lines) == GOLDEN_NAT
    assert "\n".join(rules.filter_lines) == GOLDEN_FILTER
    assert rules.payload == GOLDEN_FILTER + "\n" + GOLDEN_NAT + "\n"
    assert (rules.services, rules.endpoints) == (1, 3)


def test_each_endpoint_takes_an_equal_share_of_what_is_left() -> None:
    assert [probability(i, 4) for i in range(3)] == ["0.2500000000", "0.3333333333", "0.5000000000"]
    five = build([WEB], [endpoint_slice("web", [endpoint(f"10.244.2.{i}") for i in range(1, 6)],
                                        ("http", 8080, "TCP"))])
    chances = [ln.split("--probability ")[1].split()[0] for ln in five.nat_lines if "--probability" in ln]
    assert chances == ["0.2000000000", "0.2500000000", "0.3333333333", "0.5000000000"]


def test_a_service_without_ready_endpoints_is_rejected_in_filter() -> None:
    rules = build([WEB], [endpoint_slice("web", [endpoint("10.244.1.5", ready=False)], ("http", 8080, "TCP"))])
    assert ('-A KUBE-SERVICES -m comment --comment "default/web:http has no endpoints" -m tcp -p tcp '
            '-d 10.96.0.10 --dport 80 -j REJECT') in rules.filter_lines
    assert not any("KUBE-SVC-" in ln for ln in rules.nat_lines)


def test_terminating_but_serving_endpoints_are_used_when_none_is_ready() -> None:
    slice_ = endpoint_slice("web", [endpoint("10.244.1.5", ready=False, serving=True, terminating=True),
                                    endpoint("10.244.1.6", ready=False, serving=False, terminating=True)],
                            ("http", 8080, "TCP"))
    dnats = [ln for ln in build([WEB], [slice_]).nat_lines if "DNAT" in ln]
    assert len(dnats) == 1 and dnats[0].endswith("--to-destination 10.244.1.5:8080")


def test_only_ready_endpoints_get_traffic_when_some_are_ready() -> None:
    slice_ = endpoint_slice("web", [endpoint("10.244.1.5"), endpoint("10.244.1.6", ready=False)],
                            ("http", 8080, "TCP"))
    rules = build([WEB], [slice_])
    assert [ln.split()[-1] for ln in rules.nat_lines if "DNAT" in ln] == ["10.244.1.5:8080"]
    assert not any("--probability" in ln for ln in rules.nat_lines)  # one endpoint: unconditional jump


def test_masquerade_needs_the_cluster_cidr_or_masquerade_all() -> None:
    assert not any("! -s" in ln for ln in build([WEB], [WEB_SLICE], cluster_cidr="").nat_lines)
    everything = build([WEB], [WEB_SLICE], cluster_cidr="", masquerade_all=True)
    svc = service_chain("default/web:http", "tcp")
    assert (f'-A {svc} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 '
            f'--dport 80 -j KUBE-MARK-MASQ') in everything.nat_lines


def test_chains_of_removed_services_are_flushed_and_deleted() -> None:
    old_svc = service_chain("default/gone:http", "tcp")
    old_sep = endpoint_chain("default/gone:http", "tcp", "10.244.9.9:80")
    existing = {"KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-PROXY-CANARY", "KUBE-KUBELET-CANARY", old_svc, old_sep}
    rules = build([WEB], [WEB_SLICE], existing_nat_chains=existing)
    assert rules.deleted_chains == {old_svc, old_sep}
    lines = list(rules.nat_lines)
    for chain in (old_svc, old_sep):
        assert lines.index(f":{chain} - [0:0]") < lines.index(f"-X {chain}")
    assert "-X KUBE-PROXY-CANARY" not in lines and "-X KUBE-KUBELET-CANARY" not in lines
    assert lines[-2].endswith("-j KUBE-NODEPORTS")  # the nodeports jump stays last


def test_each_port_of_a_service_gets_its_own_chains() -> None:
    dns = service("kube-dns", "10.96.0.10", ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), namespace="kube-system")
    slice_ = endpoint_slice("kube-dns", [endpoint("10.244.0.2")], ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"),
                            namespace="kube-system")
    rules = build([dns], [slice_])
    assert {"KUBE-SVC-TCOU7JCQXEZGVUNU", service_chain("kube-system/kube-dns:dns-tcp", "tcp")} <= rules.nat_chains
    assert ('-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp '
            '-d 10.96.0.10 --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU') in rules.nat_lines
    assert sum("DNAT" in ln for ln in rules.nat_lines) == 2


def test_slice_ports_join_service_ports_by_name() -> None:
    two = service("web", "10.96.0.20", ("http", 80, "TCP"), ("metrics", 9090, "TCP"))
    slice_ = endpoint_slice("web", [endpoint("10.244.1.5")], ("metrics", 9100, "TCP"), ("http", 8080, "TCP"))
    dnat = {ln.split("--comment ")[1].split()[0]: ln.split()[-1] for ln in build([two], [slice_]).nat_lines
            if "DNAT" in ln}
    assert dnat == {"default/web:http": "10.244.1.5:8080", "default/web:metrics": "10.244.1.5:9100"}


def test_headless_and_external_name_services_are_not_proxied() -> None:
    headless = service("db", "None", ("pg", 5432, "TCP"))
    external = service("ext", "", ("http", 80, "TCP"), type="ExternalName", externalName="example.org")
    rules = build([headless, external], [endpoint_slice("db", [endpoint("10.244.1.9")], ("pg", 5432, "TCP"))])
    assert rules.services == 0 and not any("KUBE-SVC-" in ln for ln in rules.nat_lines)


def test_sctp_and_unnamed_ports() -> None:
    svc = service("sig", "10.96.0.30", ("", 3868, "SCTP"))
    rules = build([svc], [endpoint_slice("sig", [endpoint("10.244.1.5")], ("", 3868, "SCTP"))])
    chain = service_chain("default/sig", "sctp")
    assert (f"-A KUBE-SERVICES -m comment --comment \"default/sig cluster IP\" -m sctp -p sctp -d 10.96.0.30 "
            f"--dport 3868 -j {chain}") in rules.nat_lines


def test_node_ports_jump_from_kube_nodeports_and_are_masqueraded() -> None:
    svc = service("web", "10.96.0.10", ("http", 80, "TCP"), type="NodePort")
    svc["spec"]["ports"][0]["nodePort"] = 30080
    chain = service_chain("default/web:http", "tcp")
    rules = build([svc], [WEB_SLICE])
    assert f"-A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30080 -j {chain}" \
        in rules.nat_lines
    assert f"-A {chain} -m comment --comment default/web:http -m tcp -p tcp --dport 30080 -j KUBE-MARK-MASQ" \
        in rules.nat_lines
    empty = build([svc], [])
    assert any(ln.startswith("-A KUBE-EXTERNAL-SERVICES") and "--dport 30080 -j REJECT" in ln
               for ln in empty.filter_lines)


def test_client_ip_affinity_uses_the_recent_module() -> None:
    svc = service("web", "10.96.0.10", ("http", 80, "TCP"), sessionAffinity="ClientIP")
    rules = build([svc], [WEB_SLICE])
    sep = endpoint_chain("default/web:http", "tcp", "10.244.1.5:8080")
    assert any(f"-m recent --name {sep} --mask 255.255.255.255 --rcheck --seconds 10800 --reap -j {sep}" in ln
               for ln in rules.nat_lines)
    assert any(ln.startswith(f"-A {sep}") and "--set -j DNAT" in ln for ln in rules.nat_lines)


def test_output_does_not_depend_on_input_order() -> None:
    a = service("a", "10.96.0.1", ("", 443, "TCP"))
    slices = [endpoint_slice("a", [endpoint("10.244.0.3"), endpoint("10.244.0.1")], ("", 6443, "TCP")), WEB_SLICE]
    assert build([WEB, a], slices).payload == build([a, WEB], slices[::-1]).payload
