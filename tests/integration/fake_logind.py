"""A private dbus-daemon with a stand-in for systemd-logind (and systemd's KillUnit) on it.

The kubelet talks to it over the real D-Bus wire protocol, file-descriptor passing included:
`Inhibit` hands out the write end of a pipe and keeps the read end, so the test sees the lock
held until the kubelet closes it. `prepare_for_shutdown(b)` emits logind's signal.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.threading import open_dbus_connection  # its send is safe beside a receiving thread

LOGIND = DBusAddress("/org/freedesktop/login1", bus_name="org.freedesktop.login1",
                     interface="org.freedesktop.login1.Manager")


@dataclass
class FakeLogind:
    address: str
    conf_dir: Path
    delay_usec: int
    locks: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # (read end, Inhibit's arguments)
    reloads: int = 0
    _conn: Any = None

    def held(self) -> list[tuple[str, ...]]:
        """The Inhibit arguments of the locks whose holder has not closed them."""
        out = []
        for fd, args in self.locks:
            readable, _, _ = select.select([fd], [], [], 0)
            if not readable:  # EOF (released) makes the read end readable
                out.append(args)
        return out

    def prepare_for_shutdown(self, active: bool) -> None:
        self._conn.send(new_signal(LOGIND, "PrepareForShutdown", "b", (active,)))

    def _reload(self) -> None:
        self.reloads += 1
        for path in sorted(self.conf_dir.glob("*.conf")):
            for line in path.read_text().splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "InhibitDelayMaxSec":
                    self.delay_usec = int(value) * 1_000_000

    def _answer(self, msg: Any) -> Any:
        fields = msg.header.fields
        member, iface = fields.get(HeaderFields.member), fields.get(HeaderFields.interface)
        if iface == "org.freedesktop.DBus.Properties" and member == "Get" and msg.body[1] == "InhibitDelayMaxUSec":
            return new_method_return(msg, "v", (("t", self.delay_usec),))
        if iface == LOGIND.interface and member == "Inhibit":
            read_end, write_end = os.pipe()
            self.locks.append((read_end, tuple(msg.body)))
            reply = new_method_return(msg, "h", (write_end,))
            return reply, write_end
        if iface == "org.freedesktop.systemd1.Manager" and member == "KillUnit":
            if tuple(msg.body) == ("systemd-logind.service", "all", 1):
                self._reload()
            return new_method_return(msg)
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no {iface}.{member}",))

    def serve(self) -> None:
        conn = self._conn
        while True:
            try:
                msg = conn.receive()
            except Exception:  # the daemon is gone: the test is over
                return
            if msg.header.message_type != MessageType.method_call:
                continue
            answer = self._answer(msg)
            close_after = None
            if isinstance(answer, tuple):
                answer, close_after = answer
            conn.send(answer)
            if close_after is not None:
                os.close(close_after)  # the holder has its copy now


@contextlib.contextmanager
def fake_logind(tmp_path: Path, delay_seconds: int = 5) -> Iterator[FakeLogind]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    socket_path = tmp_path / "system_bus_socket"
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                               f"--address=unix:path={socket_path}", "--print-address=1"],
                              stdout=subprocess.PIPE, text=True)
    try:
        address = (daemon.stdout.readline() if daemon.stdout else "").strip()
        assert address, "dbus-daemon printed no address"
        fake = FakeLogind(address, tmp_path / "logind.conf.d", delay_seconds * 1_000_000)
        fake._conn = open_dbus_connection(address, enable_fds=True)
        for serial, name in enumerate(("org.freedesktop.login1", "org.freedesktop.systemd1"), start=1000):
            fake._conn.send(message_bus.RequestName(name), serial=serial)
            while fake._conn.receive(timeout=5).header.fields.get(HeaderFields.reply_serial) != serial:
                pass
        threading.Thread(target=fake.serve, daemon=True).start()
        yield fake
        for fd, _args in fake.locks:
            os.close(fd)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
