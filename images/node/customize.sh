#!/bin/sh
# mmdebstrap customize hook for the lab node image: runs on the build host with the
# image's root directory as $1 and Vagrant's insecure public key as $VAGRANT_PUBKEY.
# Turns a plain Debian root into a machine Vagrant can log into and systemd can boot
# inside a container.
set -eu
root="$1"

# Vagrant's conventions: user `vagrant` (uid 1000), the insecure key, passwordless sudo.
chroot "$root" useradd --create-home --uid 1000 --user-group --shell /bin/bash vagrant
install -d -m 0700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$VAGRANT_PUBKEY" "$root/home/vagrant/.ssh/authorized_keys"
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' > "$root/etc/sudoers.d/vagrant"
chmod 0440 "$root/etc/sudoers.d/vagrant"

# Every machine gets its own SSH host keys and machine-id at first boot, not the
# ones generated while the image was built.
rm -f "$root"/etc/ssh/ssh_host_*
install -d "$root/etc/systemd/system/ssh.service.d"
cat > "$root/etc/systemd/system/ssh.service.d/10-hostkeys.conf" <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
chroot "$root" systemctl enable ssh.service

# Units that have nothing to do (or fail) in a machine container: consoles, udev,
# kernel filesystems the container runtime already set up.
chroot "$root" systemctl mask \
  getty@.service serial-getty@.service console-getty.service getty.target \
  systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service \
  systemd-remount-fs.service systemd-firstboot.service \
  sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
  sys-fs-fuse-connections.mount dev-hugepages.mount proc-sys-fs-binfmt_misc.automount \
  systemd-binfmt.service systemd-modules-load.service

# The roles configure and enable these; a stock etcd starting with Debian's defaults
# would create /var/lib/etcd as a one-member cluster the etcd role must not inherit.
chroot "$root" systemctl disable etcd.service containerd.service docker-registry.service
rm -rf "$root/var/lib/etcd/"* "$root/var/lib/docker-registry/"* 2>/dev/null || true

# Keep apt usable offline-ish on the machine (the lists stay), drop the package cache.
rm -rf "$root/var/cache/apt/archives/"*.deb
