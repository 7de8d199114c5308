"""A size-limited folder for the storage-fault tests: a tmpfs mounted on a temporary directory.

Mounting needs root (as CI and the development VM run the tests); without it the test fails with
a message saying so rather than skipping, since a full disk cannot be faked faithfully in Python.
"""
from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from typing import Iterator

import pytest


def _mount(*args: str) -> None:
    proc = subprocess.run(["mount", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"mount {' '.join(args)} failed ({proc.stderr.strip()}): the storage-fault tests mount a "
                    "small tmpfs and need root (or CAP_SYS_ADMIN), as CI has")


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "256k") at `path` for the duration of the block."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def resize(path: Path, size: str) -> None:
    """Give the tmpfs at `path` a new size (its files stay)."""
    _mount("-o", f"remount,size={size}", str(path))


def temporaries(folder: Path) -> list[Path]:
    """Temporary files (`.NAME.*.tmp`) and unfinished checkpoint folders under a folder."""
    return sorted(p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.endswith("_temp"))


def error_lines(stderr: str) -> list[str]:
    """The `norlm ...: error:` lines of a run's standard error."""
    return [line for line in stderr.splitlines() if ": error: " in line]
