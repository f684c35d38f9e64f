"""Vagrant, as the lab drives it: the repo's Vagrantfile, told which lab and image to use.

Environment: VAGRANT_CWD (repo root), VAGRANT_DEFAULT_PROVIDER, KUBELAB_LAB (lab.yml) and
KUBELAB_NODE_IMAGE (docker provider). Also the docker leftovers `vagrant destroy` keeps
(per-machine containerd volumes, the private network).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lab.machines.errors import MachineError
from lab.machines.inventory import SshEndpoint, parse_ssh_config
from lab.machines.labfile import Lab
from lab.run import last_line, run


@dataclass(frozen=True)
class Vagrant:
    repo: Path
    lab: Lab
    provider: str
    node_image: str = ""

    def env(self) -> dict[str, str]:
        env = dict(os.environ, VAGRANT_CWD=str(self.repo), VAGRANT_DEFAULT_PROVIDER=self.provider,
                   KUBELAB_LAB=str(self.lab.path.resolve()))
        if self.node_image:
            env["KUBELAB_NODE_IMAGE"] = self.node_image
        return env

    def command(self, *args: str) -> list[str]:
        return ["vagrant", *args]

    def up(self) -> None:
        # streams Vagrant's progress; the docker provider brings machines up in parallel
        run(self.command("up", "--provider", self.provider, *self.lab.names()),
            cwd=self.repo, env=self.env(), capture=False)

    def destroy(self) -> None:
        run(self.command("destroy", "-f", *self.lab.names()), cwd=self.repo, env=self.env(), capture=False)

    def status(self) -> dict[str, str]:
        """machine -> state (`running`, `not_created`, `stopped`, ...)."""
        proc = run(self.command("status", "--machine-readable", *self.lab.names()),
                   cwd=self.repo, env=self.env())
        return parse_status(proc.stdout)

    def ssh_config(self) -> dict[str, SshEndpoint]:
        proc = run(self.command("ssh-config", *self.lab.names()), cwd=self.repo, env=self.env())
        return parse_ssh_config(proc.stdout)

    def ssh_argv(self, machine: str, command: list[str]) -> list[str]:
        argv = self.command("ssh", machine)
        if command:
            argv += ["-c", subprocess.list2cmdline(command) if len(command) > 1 else command[0]]
        return argv

    def remove_docker_leftovers(self) -> list[str]:
        """Remove what `vagrant destroy` leaves behind on Docker: each machine's containerd
        volume, containers orphaned by lost Vagrant state, the lab's private network.
        Returns what was removed; missing things are fine (idempotent)."""
        removed: list[str] = []
        for name in self.lab.names():
            container = f"{self.lab.name}-{name}"
            if _docker_ok("container", "inspect", container):
                run(["docker", "rm", "-f", "-v", container])
                removed.append(f"container {container}")
            volume = self.lab.volume(name)
            if _docker_ok("volume", "inspect", volume):
                run(["docker", "volume", "rm", "-f", volume])
                removed.append(f"volume {volume}")
        network = f"vagrant_network_{self.lab.network}"
        if _docker_ok("network", "inspect", network):
            proc = run(["docker", "network", "rm", network], check=False)
            if proc.returncode != 0:
                raise MachineError(f"could not remove docker network {network}: {last_line(proc)}")
            removed.append(f"network {network}")
        return removed


def _docker_ok(*args: str) -> bool:
    return run(["docker", *args], check=False).returncode == 0


def parse_status(text: str) -> dict[str, str]:
    """`vagrant status --machine-readable`: `ts,target,state,value` lines."""
    states: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(",", 3)
        if len(parts) == 4 and parts[1] and parts[2] == "state":
            states[parts[1]] = parts[3]
    return states
