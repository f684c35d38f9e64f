"""KubeSchedulerConfiguration: upstream defaults, enable/disable per point, weights, pluginConfig,
and the file read strictly, as upstream (an unknown field is an error)."""

import re
from pathlib import Path

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
        unknown = config.from_dict({"profiles": [{"plugins": {"filter": {"enabled": [{"name": "Nope"}]}}}]})
        Framework(unknown.profiles[0], handle=None)
    with pytest.raises(config.ConfigError, match=re.escape('unknown field "profiles[0].plugins.filters"')):
        config.from_dict({"profiles": [{"plugins": {"filters": {}}}]})


HEADER = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"


def test_a_file_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\n")
    expected = f'{path}: no kind "ConfigMap" is registered for version "v1"'
    with pytest.raises(config.ConfigError, match="^" + re.escape(expected)):
        config.load(path)
    path.write_text(HEADER.replace("/v1", "/v1beta3"))
    expected = 'registered for version "kubescheduler.config.k8s.io/v1beta3"'
    with pytest.raises(config.ConfigError, match=re.escape(expected)):
        config.load(path)


def test_unknown_and_duplicate_fields_in_the_file_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text(HEADER + "leaderElection:\n  leaderElect: false\n  leaseDurationSeconds: 15\n"
                             "percentageOfNodesToScore: 10\npercentageOfNodesToScore: 20\n")
    with pytest.raises(config.ConfigError) as caught:
        config.load(path)
    assert str(caught.value) == (f'{path}: strict decoding error: duplicate field "percentageOfNodesToScore" '
                                 '(line 7), unknown field "leaderElection.leaseDurationSeconds"')


def test_a_valid_file_loads_with_upstream_fields_kubelab_does_not_act_on(tmp_path: Path) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text(HEADER + "parallelism: 16\nleaderElection: {leaderElect: false, leaseDuration: 15s,"
                             " resourceName: my-sched}\nclientConnection: {kubeconfig: /k, qps: 50}\n"
                             "profiles:\n- schedulerName: packer\n  plugins: {multiPoint: {enabled: [{name: X}]}}\n")
    cfg = config.load(path)
    assert (cfg.leader_elect, cfg.lease_name, cfg.kubeconfig) == (False, "my-sched", "/k")
    assert [p.scheduler_name for p in cfg.profiles] == ["packer"]


def test_semantic_errors_in_the_file_name_it(tmp_path: Path) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text(HEADER + "profiles: [{schedulerName: a}, {schedulerName: a}]\n")
    with pytest.raises(config.ConfigError, match="^" + re.escape(f"{path}: profiles: duplicate schedulerName")):
        config.load(path)
    path.write_text(HEADER + "percentageOfNodesToScore: lots\n")
    expected = f"{path}: percentageOfNodesToScore: expected an integer"
    with pytest.raises(config.ConfigError, match="^" + re.escape(expected)):
        config.load(path)
