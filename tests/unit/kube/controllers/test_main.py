"""kube-controller-manager flags: upstream `--controllers` syntax and CIDR checks."""

import pytest

from lab.kube.controllers.main import build, enabled, parse_args


def test_controllers_flag_enables_and_disables() -> None:
    assert enabled("deployment", ("*",))
    assert not enabled("deployment", ("*", "-deployment"))
    assert enabled("endpoint", ("endpoint",)) and not enabled("replicaset", ("endpoint",))


def test_nodeipam_runs_only_with_allocate_node_cidrs() -> None:
    class Informers:
        def get(self, res):  # type: ignore[no-untyped-def]
            from lab.kube.client import Informer
            return Informer(None, res)  # type: ignore[arg-type]

    without = parse_args(["--controllers=nodeipam"])
    with_ = parse_args(["--controllers=nodeipam", "--allocate-node-cidrs", "--cluster-cidr", "10.244.0.0/16"])
    assert build(None, Informers(), without) == []  # type: ignore[arg-type]
    assert [c.name for c in build(None, Informers(), with_)] == ["nodeipam"]  # type: ignore[arg-type]


def test_overlapping_ranges_are_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--cluster-cidr", "10.96.0.0/16", "--service-cluster-ip-range", "10.96.0.0/12"])
    with pytest.raises(SystemExit):
        parse_args(["--allocate-node-cidrs"])
