"""The kubelet's side of systemd-logind over the system D-Bus, for graceful node shutdown.

Upstream's nodeshutdown/systemd: read `InhibitDelayMaxUSec`, raise it with a logind.conf.d
drop-in (and SIGHUP logind through systemd's `KillUnit`) when it is shorter than the grace the
kubelet needs, take a `delay` inhibitor lock on `shutdown` (the lock is a file descriptor:
closing it lets the shutdown go on), and watch `PrepareForShutdown(b)`. jeepney speaks the
protocol; its threaded router is the one that passes file descriptors, so calls run in threads.
"""

from __future__ import annotations

import asyncio
import os
import queue
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from jeepney import DBusAddress, MatchRule, Properties, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusRouter, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

LOGIND = DBusAddress("/org/freedesktop/login1", bus_name="org.freedesktop.login1",
                     interface="org.freedesktop.login1.Manager")
SYSTEMD = DBusAddress("/org/freedesktop/systemd1", bus_name="org.freedesktop.systemd1",
                      interface="org.freedesktop.systemd1.Manager")
PREPARE_FOR_SHUTDOWN = MatchRule(type="signal", interface=LOGIND.interface, member="PrepareForShutdown",
                                 path=LOGIND.object_path)
LOGIND_CONF_DIR = Path("/etc/systemd/logind.conf.d")
KUBELET_LOGIND_CONF = "99-kubelet.conf"
CALL_TIMEOUT = 10.0
SIGHUP = 1


class LogindError(Exception):
    """The bus or logind refused or is gone; the caller reconnects."""


class Logind(Protocol):
    """What the shutdown manager needs of logind (tests pass a fake)."""

    async def connect(self) -> None: ...
    async def inhibit_delay(self) -> float: ...
    async def override_inhibit_delay(self, seconds: float) -> None: ...
    async def inhibit_shutdown(self) -> int: ...
    def release(self, lock: int) -> None: ...
    def shutdown_events(self) -> AsyncIterator[bool]: ...
    async def close(self) -> None: ...


def logind_drop_in(seconds: float) -> str:
    return f"# Kubelet logind override\n[Login]\nInhibitDelayMaxSec={seconds:.0f}\n"


class _Router(DBusRouter):  # type: ignore[misc]  # jeepney is untyped
    def _receiver(self) -> None:
        try:
            super()._receiver()
        except OSError:
            pass  # the bus went away: shutdown_events sees the thread gone and says so


class DBusLogind:
    """One system-bus connection; `connect()` first, `close()` at the end (any error: make a new one)."""

    def __init__(self, bus: str = "SYSTEM", conf_dir: Path = LOGIND_CONF_DIR) -> None:
        """`bus` is 'SYSTEM' (DBUS_SYSTEM_BUS_ADDRESS or /var/run/dbus/system_bus_socket) or an address."""
        self.bus, self.conf_dir = bus, conf_dir
        self._conn: Any = None
        self._router: DBusRouter | None = None
        self._signals: queue.Queue[Any] = queue.Queue(maxsize=64)

    async def connect(self) -> None:
        def open_router() -> None:
            self._conn = open_dbus_connection(bus=self.bus, enable_fds=True)
            self._router = _Router(self._conn)
            self._router.filter(PREPARE_FOR_SHUTDOWN, queue=self._signals)
            self._call_sync(message_bus.AddMatch(PREPARE_FOR_SHUTDOWN))
        try:
            await asyncio.to_thread(open_router)
        except (OSError, ValueError, StopIteration) as exc:  # no socket, refused, unparsable address
            await self.close()
            raise LogindError(f"connecting to the system bus: {exc}") from exc

    def _call_sync(self, msg: Any) -> tuple[Any, ...]:
        if self._router is None:
            raise LogindError("not connected to the system bus")
        try:
            return tuple(unwrap_msg(self._router.send_and_get_reply(msg, timeout=CALL_TIMEOUT)))
        except DBusErrorResponse as exc:
            raise LogindError(f"{exc.name}: {' '.join(map(str, exc.data))}") from exc
        except Exception as exc:  # the socket, a timeout, jeepney's RouterClosed: the connection is done
            raise LogindError(str(exc) or type(exc).__name__) from exc

    async def _call(self, msg: Any) -> tuple[Any, ...]:
        return await asyncio.to_thread(self._call_sync, msg)

    async def inhibit_delay(self) -> float:
        """logind's InhibitDelayMaxUSec, in seconds: the longest a delay lock may hold a shutdown."""
        (value,) = await self._call(Properties(LOGIND).get("InhibitDelayMaxUSec"))
        _signature, usec = value
        return int(usec) / 1e6

    async def override_inhibit_delay(self, seconds: float) -> None:
        """Write the logind.conf.d drop-in and have systemd SIGHUP logind so it reads it again."""
        def write() -> None:
            self.conf_dir.mkdir(parents=True, exist_ok=True)
            path = self.conf_dir / KUBELET_LOGIND_CONF
            tmp = path.with_suffix(".tmp")
            tmp.write_text(logind_drop_in(seconds))
            tmp.replace(path)
        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            raise LogindError(f"writing the logind drop-in in {self.conf_dir}: {exc}") from exc
        await self._call(new_method_call(SYSTEMD, "KillUnit", "ssi", ("systemd-logind.service", "all", SIGHUP)))

    async def inhibit_shutdown(self) -> int:
        """A `delay` lock on shutdown held by this process: the returned descriptor is the lock."""
        (fd,) = await self._call(new_method_call(LOGIND, "Inhibit", "ssss",
                                                 ("shutdown", "kubelet", "Kubelet needs time to handle node shutdown",
                                                  "delay")))
        return int(fd.to_raw_fd())

    def release(self, lock: int) -> None:
        try:
            os.close(lock)
        except OSError:
            pass  # already closed: nothing held

    async def shutdown_events(self) -> AsyncIterator[bool]:
        """PrepareForShutdown's argument, as logind sends it; ends (LogindError) when the bus is gone."""
        while True:
            try:
                msg = await asyncio.to_thread(self._signals.get, timeout=1.0)
            except queue.Empty:
                router = self._router
                if router is None or not router._rcv_thread.is_alive():  # the router ends its thread on EOF
                    raise LogindError("the system bus connection ended") from None
                continue
            if msg.body and isinstance(msg.body[0], bool):
                yield msg.body[0]

    async def close(self) -> None:
        router, conn = self._router, self._conn
        self._router, self._conn = None, None

        def shut() -> None:
            if router is not None:
                router.close()
            if conn is not None:
                conn.close()
        await asyncio.to_thread(shut)
