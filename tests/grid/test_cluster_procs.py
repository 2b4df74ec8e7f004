"""The process helper the cluster tests rely on to leave nothing behind: killing a registry's
processes kills their whole process groups, grandchildren included, and says so if any
process survived."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from tests.grid.cluster_procs import Processes, _process_groups, free_port, wait_for

# A parent that starts a child (same process group) and prints its pid, then both sleep.
PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(120)\n"
)


def test_kill_all_kills_process_groups_with_grandchildren(tmp_path: Path) -> None:
    procs = Processes(tmp_path / "logs")
    parent = procs.start("parent", [sys.executable, "-c", PARENT])
    child_pid = int(wait_for(lambda: procs.log("parent").strip(), 30, "the child's pid"))
    group = _process_groups()[parent.pid]
    assert sorted(group) == sorted([parent.pid, child_pid])  # one group, led by the parent
    assert procs.kill_all() == []
    assert parent.returncode == -9
    assert parent.pid not in _process_groups()  # the child (not ours to reap) is gone too
    assert procs.kill_all() == []  # killing again is harmless


def test_free_port_is_on_loopback_and_free() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # nobody took it
    assert 1024 < port < 65536
