"""KubeSchedulerConfiguration: upstream defaults, enable/disable per point, weights, pluginConfig."""

import pytest

from lab.kube.scheduler import config
from lab.kube.scheduler.profile import Framework


def test_defaults_give_one_default_scheduler_profile() -> None:
    cfg = config.from_dict(None)
    assert [p.scheduler_name for p in cfg.profiles] == ["default-scheduler"]
    assert cfg.leader_elect and cfg.lease_name == "kube-scheduler"
    assert ("TaintToleration", 3) in cfg.profiles[0].plugins["score"]


def test_disable_and_reweight_score_plugins() -> None:
    cfg = config.from_dict({
        "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
        "profiles": [{"schedulerName": "packer", "plugins": {"score": {
            "disabled": [{"name": "NodeResourcesBalancedAllocation"}],
            "enabled": [{"name": "NodeResourcesFit", "weight": 5}]}}},
            {"schedulerName": "no-scores", "plugins": {"score": {"disabled": [{"name": "*"}]}}}],
        "leaderElection": {"leaderElect": False},
    })
    packer, plain = cfg.profiles
    assert packer.plugins["score"] == [("TaintToleration", 3), ("NodeAffinity", 2), ("NodeResourcesFit", 5)]
    assert plain.plugins["score"] == []
    assert not cfg.leader_elect


def test_plugin_args_reach_the_plugin() -> None:
    cfg = config.from_dict({"profiles": [{"pluginConfig": [
        {"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "MostAllocated"}}}]}]})
    fwk = Framework(cfg.profiles[0], handle=None)
    fit = next(p for p in fwk.points["filter"] if p.name == "NodeResourcesFit")
    assert fit.strategy == "MostAllocated"


def test_unknown_plugin_and_wrong_kind_are_refused() -> None:
    with pytest.raises(config.ConfigError):
        Framework(config.from_dict({"profiles": [{"plugins": {"filter": {"enabled": [{"name": "Nope"}]}}}]}).profiles[0],
                  handle=None)
    with pytest.raises(config.ConfigError):
        config.from_dict({"apiVersion": "v1", "kind": "ConfigMap"})
