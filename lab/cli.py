"""`lab`: bring a kubelab lab up, deploy it, look at it, tear it down.

Machines come from lab.yml through the repo's Vagrantfile (lab/machines); deployment is
Ansible (lab/deploy). State lives in .lab/ next to the Vagrantfile.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from lab.machines import inventory, node_image, pod_images
from lab.machines.errors import MachineError
from lab.machines.labfile import PROVIDERS, Lab, LabFileError, load
from lab.machines.vagrant import Vagrant
from lab.run import CommandError, run

console = Console(highlight=False)


def find_repo() -> Path:
    """The checkout holding the Vagrantfile: the current directory, else this package's."""
    here = Path.cwd()
    return here if (here / "Vagrantfile").exists() else Path(__file__).resolve().parents[1]


@dataclass
class Context:
    repo: Path
    lab_file: Path
    provider_override: str | None
    timings: list[tuple[str, float]] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.repo / ".lab"

    @property
    def inventory(self) -> Path:
        return self.state / "inventory" / "hosts.ini"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.state / "admin.kubeconfig"

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    def lab(self) -> Lab:
        return load(self.lab_file)

    def provider(self) -> str:
        return self.provider_override or self.lab().provider

    def vagrant(self, node_image_tag: str = "") -> Vagrant:
        return Vagrant(self.repo, self.lab(), self.provider(), node_image_tag)

    def node_image_tag(self) -> str:
        """The docker provider's image tag, known without building (input hash)."""
        if self.provider() != "docker":
            return ""
        return node_image.NodeImageInputs.in_repo(self.repo).tag(self.lab().image)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        console.print(f"[bold cyan]==>[/] {name}")
        started = time.monotonic()
        try:
            yield
        except BaseException:
            elapsed = time.monotonic() - started
            self.timings.append((f"{name} (failed)", elapsed))
            console.print(f"[red]failed[/] {name} [dim]({elapsed:.1f}s)[/]")
            raise
        elapsed = time.monotonic() - started
        self.timings.append((name, elapsed))
        console.print(f"[green]ok[/] {name} [dim]({elapsed:.1f}s)[/]")

    def print_timings(self) -> None:
        if not self.timings:
            return
        table = Table("phase", "seconds", title="timings")
        for name, elapsed in self.timings:
            table.add_row(name, f"{elapsed:.1f}")
        table.add_row("[bold]total[/]", f"[bold]{sum(t for _, t in self.timings):.1f}[/]")
        console.print(table)


class LabGroup(click.Group):
    """Turns the lab's own errors into one-line messages and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (LabFileError, MachineError, CommandError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=LabGroup)
@click.option("--lab", "lab_file", type=click.Path(path_type=Path), envvar="KUBELAB_LAB", default=None,
              help="lab definition (default: lab.yml of the repo)")
@click.option("--provider", type=click.Choice(PROVIDERS), default=None, help="override lab.yml's provider")
@click.pass_context
def main(ctx: click.Context, lab_file: Path | None, provider: str | None) -> None:
    """Bring a kubelab lab up on Vagrant machines and deploy it with Ansible."""
    repo = find_repo()
    ctx.obj = Context(repo=repo, lab_file=(lab_file or repo / "lab.yml").resolve(), provider_override=provider)


pass_context = click.make_pass_decorator(Context)


def ensure_node_image(c: Context, force: bool = False) -> str:
    with c.phase("node image"):
        tag, seconds = node_image.build(c.repo, force=force, repository=c.lab().image)
        console.print(f"    {tag} " + (f"built in {seconds:.1f}s" if seconds else "(cached)"))
    return tag


def write_inventory(c: Context, vagrant: Vagrant) -> Path:
    with c.phase("inventory"):
        path = inventory.write(vagrant.lab, vagrant.ssh_config(), c.state)
        console.print(f"    {path.relative_to(c.repo)}")
    return path


@main.command()
@click.option("--no-deploy", is_flag=True, help="only create the machines and the inventory")
@pass_context
def up(c: Context, no_deploy: bool) -> None:
    """Create the lab's machines, write the inventory, deploy."""
    lab = c.lab()
    try:
        tag = ensure_node_image(c) if c.provider() == "docker" else ""
        vagrant = c.vagrant(tag)
        with c.phase(f"vagrant up ({c.provider()}: {', '.join(lab.names())})"):
            vagrant.up()
        write_inventory(c, vagrant)
        if not no_deploy:
            run_deploy(c)
    finally:
        c.print_timings()


@main.command()
@pass_context
def deploy(c: Context) -> None:
    """Build the wheelhouse and pod images, then run playbooks/site.yml."""
    try:
        run_deploy(c)
    finally:
        c.print_timings()


def run_deploy(c: Context) -> None:
    if not c.inventory.exists():
        raise click.ClickException(f"{c.inventory.relative_to(c.repo)} is missing: run `lab up` first")
    from lab.deploy import (  # the deploy half may be absent while the machines half works
        ansible,
        wheelhouse,
    )

    with c.phase("wheelhouse"):
        wheelhouse.build(c.state / "wheelhouse")
    with c.phase("pod images"):
        for image in pod_images.build_all(c.repo, c.state / "images"):
            console.print(f"    {image.reference} {image.digest[:19]}")
    with c.phase("ansible playbooks/site.yml"):
        rc = ansible.run_playbook(c.repo / "playbooks" / "site.yml", c.inventory)
        if int(rc) != 0:
            raise click.ClickException(f"playbooks/site.yml failed (exit {int(rc)})")


@main.command()
@pass_context
def status(c: Context) -> None:
    """Machines (from Vagrant) and nodes (from the API server)."""
    lab = c.lab()
    states = c.vagrant(c.node_image_tag()).status()
    table = Table("machine", "ip", "roles", "state", title=f"lab {lab.name} ({c.provider()})")
    for m in lab.machines:
        state = states.get(m.name, "unknown")
        table.add_row(m.name, m.ip, ",".join(m.roles), f"[{'green' if state == 'running' else 'yellow'}]{state}[/]")
    console.print(table)
    if not c.admin_kubeconfig.exists():
        console.print("[dim]no .lab/admin.kubeconfig yet: the cluster is not deployed[/]")
        return
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        console.print("[yellow]kubectl is not on PATH: cannot list nodes[/]")
        return
    proc = run([kubectl, "--kubeconfig", str(c.admin_kubeconfig), "get", "nodes", "-o", "wide",
                "--request-timeout=10s"], check=False)
    if proc.returncode != 0:
        console.print(f"[red]kubectl: {proc.stderr.strip()}[/]")
    else:  # "No resources found" comes on stderr
        click.echo(proc.stdout.rstrip() or proc.stderr.strip())  # unwrapped: kubectl formats its own table


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("machine")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@pass_context
def ssh(c: Context, machine: str, command: tuple[str, ...]) -> None:
    """Log into MACHINE, or run `lab ssh MACHINE -- COMMAND...` there."""
    c.lab().machine(machine)  # a one-line error for unknown names
    vagrant = c.vagrant(c.node_image_tag())
    argv = vagrant.ssh_argv(machine, list(command))
    os.chdir(c.repo)
    os.execvpe(argv[0], argv, vagrant.env())


@main.command()
@click.option("--path", "path_only", is_flag=True, help="print only the file's path")
@pass_context
def kubeconfig(c: Context, path_only: bool) -> None:
    """Print how to use the lab's admin kubeconfig (`eval $(lab kubeconfig)`)."""
    if not c.admin_kubeconfig.exists():
        raise click.ClickException("no .lab/admin.kubeconfig: run `lab up` (or `lab deploy`) first")
    click.echo(str(c.admin_kubeconfig) if path_only else f"export KUBECONFIG={c.admin_kubeconfig}")


@main.group()
def certs() -> None:
    """The lab's certificates (.lab/pki): expiry and renewal, as `kubeadm certs`."""


def existing_pki(c: Context) -> Path:
    if not (c.pki / "ca.crt").exists():
        raise click.ClickException("no .lab/pki yet: run `lab up` (or `lab deploy`) first")
    return c.pki


@certs.command("check")
@pass_context
def certs_check(c: Context) -> None:
    """Every certificate's expiry and CA (as `kubeadm certs check-expiration`)."""
    from lab.pki.expiry import report

    click.echo(report(existing_pki(c)), nl=False)


@certs.command("renew")
@click.argument("names", nargs=-1)
@click.option("--no-restart", is_flag=True, help="only reissue in .lab/pki; do not copy or restart anything")
@pass_context
def certs_renew(c: Context, names: tuple[str, ...], no_restart: bool) -> None:
    """Reissue NAMES (or `all`, the default) with the same CA, then put them in place and
    restart their users in a safe order (playbooks/certs-renew.yml). CAs are not renewed."""
    from lab.pki import UnknownCertificate, renew

    pki = existing_pki(c)
    if not no_restart and not c.inventory.exists():
        raise click.ClickException(f"{c.inventory.relative_to(c.repo)} is missing: run `lab up` first "
                                   "(or pass --no-restart)")
    try:
        written = renew(pki, list(names) or ["all"])
    except UnknownCertificate as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"[bold cyan]==>[/] renewed in {pki.relative_to(c.repo)}: {', '.join(written)}")
    if no_restart:
        return
    from lab.deploy import ansible

    try:
        with c.phase("ansible playbooks/certs-renew.yml"):
            rc = ansible.run_playbook(c.repo / "playbooks" / "certs-renew.yml", c.inventory)
            if int(rc) != 0:
                raise click.ClickException(f"playbooks/certs-renew.yml failed (exit {int(rc)})")
    finally:
        c.print_timings()


@main.group()
def image() -> None:
    """The docker provider's node image."""


@image.command("build")
@click.option("--force", is_flag=True, help="rebuild even if the tag exists")
@pass_context
def image_build(c: Context, force: bool) -> None:
    """Build the node image offline (mmdebstrap) unless its inputs are unchanged."""
    ensure_node_image(c, force=force)


@main.command()
@pass_context
def down(c: Context) -> None:
    """Destroy the lab's machines and what they leave behind (volumes, network)."""
    vagrant = c.vagrant(c.node_image_tag())
    with c.phase("vagrant destroy"):
        vagrant.destroy()
    if c.provider() == "docker":
        with c.phase("docker leftovers"):
            for what in vagrant.remove_docker_leftovers():
                console.print(f"    removed {what}")
    # both describe machines that are gone; PKI and built artifacts stay for the next `up`
    c.inventory.unlink(missing_ok=True)
    c.admin_kubeconfig.unlink(missing_ok=True)
    c.print_timings()
