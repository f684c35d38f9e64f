#!/usr/bin/env bash
# Prepare this (Debian 12) host for the lab and its tests; safe to run again and again.
#  - the Debian packages the lab and the tests use (apt-get update only when installing)
#  - Debian's etcd / docker-registry / containerd services kept off on the host
#    (tests start their own on free ports; the lab runs them inside machines)
#  - a running Docker daemon (started in the background if `docker info` fails)
#  - the .venv with kubelab installed editable, with the lab and test extras
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  vagrant mmdebstrap skopeo docker-registry
  etcd-server etcd-client containerd runc containernetworking-plugins
  iptables iproute2 conntrack gcc libc6-dev dpkg-dev openssh-client rsync
  dbus-daemon
  python3 python3-venv python3-pip ca-certificates
)
# busybox-static is not installed: it conflicts with the host's busybox; the pod image
# build downloads its .deb instead (lab/machines/pod_images.py).
HOST_SERVICES_OFF=(etcd docker-registry containerd)

log() { printf 'host-setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
have_systemd() { [ -d /run/systemd/system ]; }

install_packages() {
  local wanted=("${PACKAGES[@]}") missing=() p
  # a host with another Docker (docker-ce) keeps it
  command -v dockerd >/dev/null || wanted+=(docker.io)
  for p in "${wanted[@]}"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && { log "packages: all present"; return; }
  log "installing: ${missing[*]}"
  # No service may start during the install (Debian would start etcd on :2379 and the
  # registry on :5000); a policy-rc.d that is already there is left as it is.
  local added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ "$added_policy" -eq 0 ] || as_root rm -f /usr/sbin/policy-rc.d
}

host_services_off() {
  local svc
  for svc in "${HOST_SERVICES_OFF[@]}"; do
    if have_systemd; then
      if systemctl is-enabled --quiet "$svc" 2>/dev/null || systemctl is-active --quiet "$svc" 2>/dev/null; then
        log "disabling $svc on the host"
        as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
      fi
    elif [ -x "/etc/init.d/$svc" ] && as_root "/etc/init.d/$svc" status >/dev/null 2>&1; then
      log "stopping $svc on the host"
      as_root "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
  done
  # the containerd Docker runs for itself is not the system one: Docker keeps working
  local port
  for port in 2379 5000; do
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
      log "warning: something still listens on port $port (tests and the lab use their own ports)"
    fi
  done
}

ensure_docker() {
  if docker info >/dev/null 2>&1; then log "docker: running"; return; fi
  if have_systemd; then
    as_root systemctl start docker
  else
    log "starting dockerd in the background (log: /var/log/dockerd.log)"
    as_root sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  local i
  for i in $(seq 60); do
    docker info >/dev/null 2>&1 && { log "docker: running"; return; }
    sleep 1
  done
  log "error: dockerd did not come up in 60 s (see /var/log/dockerd.log)"
  exit 1
}

ensure_venv() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # reinstall only when the project's metadata changed since the last run
  local stamp=.venv/.kubelab-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ ! -x .venv/bin/lab ]; then
    log "installing kubelab into .venv"
    .venv/bin/pip install -q -e '.[lab,test]'
    touch "$stamp"
  else
    log "venv: up to date"
  fi
}

install_packages
host_services_off
ensure_docker
ensure_venv
log "done"
