"""Reading /proc for the tests that check no student or grader process outlives its run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass(frozen=True)
class Process:
    """One live process as /proc shows it."""

    pid: int
    ppid: int
    uid: int
    zombie: bool
    started: int
    """Start time, in clock ticks since boot."""
    cmdline: bytes


def now_ticks() -> int:
    """Now, in clock ticks since boot (the unit of a process's start time)."""
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return int(uptime * os.sysconf("SC_CLK_TCK"))


def processes() -> Iterator[Process]:
    """Every process readable in /proc; ones that vanish while being read are skipped."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines()
                          if ":" in line)
            # Field 22 of /proc/PID/stat, counted after the command name in parentheses.
            started = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[19])
            yield Process(pid=int(entry.name), ppid=int(status["PPid"]),
                          uid=int(status["Uid"].split()[0]),
                          zombie="zombie" in status.get("State", ""), started=started,
                          cmdline=(entry / "cmdline").read_bytes())
        except (OSError, KeyError, IndexError, ValueError):
            continue
