"""Every role documents exactly the variables it defaults: a variable added to or removed from
defaults/main.yml without its meta/argument_specs.yml entry (or the other way round) fails here,
before Ansible's own validation meets it on a lab."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "defaults/main.yml").exists())
# set inside a role's own loop, not an input (templated from a loop variable, so not validated)
INTERNAL = {"registry_image_repo"}


@pytest.mark.parametrize("role", ROLES)
def test_the_argument_spec_lists_every_default(role: str) -> None:
    defaults = set(yaml.safe_load((REPO / f"roles/{role}/defaults/main.yml").read_text()) or {})
    spec = yaml.safe_load((REPO / f"roles/{role}/meta/argument_specs.yml").read_text())
    options = set(spec["argument_specs"]["main"]["options"])
    assert defaults - INTERNAL == options
