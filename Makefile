# kubelab: `make lab` brings the default lab up, `make test` runs every test tier,
# `make check` runs the static checks (ruff, mypy, import layers; part of `make test`),
# `make down` tears the lab down. All targets run from the repo root.
.PHONY: setup lab test check down unit integration image

setup:
	scripts/host-setup.sh

lab: setup
	.venv/bin/lab up

test: setup check
	scripts/test.sh

check: setup
	scripts/check.sh

down:
	.venv/bin/lab down

image: setup
	.venv/bin/lab image build

unit:
	.venv/bin/pytest -q tests/unit

integration:
	.venv/bin/pytest -q tests/integration
