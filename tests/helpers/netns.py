"""Test hosts in Linux network namespaces (iproute2 ``ip netns``, veth pairs on one bridge), and their processes.

Each :class:`Host` is a namespace with one address on the bridge in the root namespace (which has the
``.1`` address, so the test and nginx reach every host). Processes are started inside a host with
``ip netns exec`` in their own process group and are all ended by :meth:`Network.close`, which also
removes the namespaces, the veth pairs and the bridge, even after a failure. Needs root (CAP_NET_ADMIN).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import httpx

# Defaults for one Network; a second harness running at the same time (another test module, a benchmark) passes
# its own prefix and subnet to Network(...) so that the namespaces, the bridge and the addresses do not collide.
PREFIX = os.environ.get("AUSKUNFT_NETNS_PREFIX", "ausk-")
SUBNET = os.environ.get("AUSKUNFT_NETNS_SUBNET", "10.231.0")  # a /24; the bridge is .1


def _ip(*args: str, check: bool = True) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True, timeout=30)


def available() -> Optional[str]:
    """None when namespaces can be made here, else why not (for the skip reason)."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN)"
    try:
        _ip("netns", "list")
    except (OSError, subprocess.CalledProcessError) as err:
        return f"iproute2 'ip netns' is not usable: {err}"
    return None


@dataclass
class Host:
    """One test host: a namespace with one address on the bridge."""

    name: str
    address: str
    prefix: str = PREFIX

    @property
    def namespace(self) -> str:
        """The namespace's name."""
        return f"{self.prefix}{self.name}"

    def wrap(self, argv: Sequence[str], user: Optional[str] = None) -> List[str]:
        """``argv`` run inside this host (as ``user`` when given)."""
        return ["ip", "netns", "exec", self.namespace, *(["runuser", "-u", user, "--"] if user else []), *argv]


@dataclass
class Network:
    """A bridge in the root namespace and the hosts on it; a context manager that removes everything on exit.

    Args:
        prefix: of every namespace, veth and the bridge (at most 5 characters: interface names have 15).
        subnet: the first three octets of the hosts' /24; the bridge in the root namespace is ``.1``.
    """

    prefix: str = PREFIX
    subnet: str = SUBNET
    hosts: Dict[str, Host] = field(default_factory=dict)
    processes: List["subprocess.Popen[bytes]"] = field(default_factory=list)

    @property
    def bridge(self) -> str:
        """The bridge's name."""
        return f"{self.prefix}br0"

    @property
    def gateway(self) -> str:
        """The root namespace's address on the bridge (what the hosts see nginx and the test as)."""
        return f"{self.subnet}.1"

    def __enter__(self) -> "Network":
        self.remove_leftovers()
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_host(self, name: str, number: int) -> Host:
        """A new namespace ``<prefix><name>`` at ``<subnet>.<number>``, linked to the bridge by a veth pair."""
        host = Host(name, f"{self.subnet}.{number}", self.prefix)
        outside, inside = f"{self.prefix}{name}-h", f"{self.prefix}{name}-c"  # at most 15 characters
        _ip("netns", "add", host.namespace)
        self.hosts[name] = host
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", host.namespace)
        _ip("link", "set", outside, "master", self.bridge, "up")
        for args in (("addr", "add", f"{host.address}/24", "dev", inside), ("link", "set", inside, "up"),
                     ("link", "set", "lo", "up")):
            _ip("-n", host.namespace, *args)
        return host

    def start(self, host: Host, argv: Sequence[str], log: Path, env: Optional[Dict[str, str]] = None,
              user: Optional[str] = None, cwd: Optional[Path] = None) -> "subprocess.Popen[bytes]":
        """Start ``argv`` inside ``host`` in its own process group, output to ``log``."""
        with log.open("ab") as out:
            process = subprocess.Popen(host.wrap(argv, user), env=env, cwd=cwd, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: "subprocess.Popen[bytes]", sig: int = signal.SIGKILL, grace: float = 10.0) -> None:
        """Send ``sig`` to the process's group and wait for it (SIGKILL after ``grace`` seconds)."""
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=grace)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def close(self) -> None:
        """End every process started here, then remove the namespaces and the bridge."""
        for process in reversed(self.processes):
            try:
                self.kill(process, signal.SIGTERM)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for host in self.hosts.values():
            self._end_inside(host.namespace)
        self.remove_leftovers()
        self.hosts.clear()

    @staticmethod
    def _end_inside(namespace: str) -> None:
        """Kill what still runs in ``namespace`` (only processes these tests started live there)."""
        found = _ip("netns", "pids", namespace, check=False).stdout.split()
        for pid in found:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass

    def remove_leftovers(self) -> None:
        """Remove this prefix's namespaces and bridge (from an earlier run that was killed)."""
        for line in _ip("netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.strip() else ""
            if name.startswith(self.prefix):
                Network._end_inside(name)
                _ip("netns", "del", name, check=False)
        _ip("link", "del", self.bridge, check=False)


def wait_ready(urls: Sequence[str], processes: Sequence["subprocess.Popen[bytes]"], timeout: float,
               logs: Sequence[Path] = ()) -> float:
    """Wait until every URL answers 200; returns the seconds taken.

    Raises:
        AssertionError: a process exited or the time ran out (with the logs' last lines).
    """
    started = time.monotonic()
    pending = list(urls)
    while pending:
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"{process.args!r} exited with {process.returncode}\n{tails(logs)}")
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not ready after {timeout:.0f} s: {pending}\n{tails(logs)}")
        for url in list(pending):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    pending.remove(url)
            except httpx.HTTPError:
                pass
        time.sleep(0.5)
    return time.monotonic() - started


def tails(logs: Sequence[Path], lines: int = 12) -> str:
    """The last lines of each log, for failure messages."""
    parts = []
    for log in logs:
        if log.is_file():
            parts.append(f"--- {log}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:]))
    return "\n".join(parts)
