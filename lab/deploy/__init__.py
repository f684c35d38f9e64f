"""Deploying the lab: build the offline wheelhouse, then run the Ansible playbooks."""

from lab.deploy.ansible import PlaybookResult, run_playbook
from lab.deploy.wheelhouse import build as build_wheelhouse

__all__ = ["PlaybookResult", "build_wheelhouse", "run_playbook"]
