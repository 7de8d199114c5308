"""Disk space: a pre-flight check before a stage writes, and one clear line when a write runs out.

At paper scale a stage writes hundreds of GB to project quotas and shared scratch.  A stage calls
`preflight(folder, need_bytes, force)` once before any work: too little free space (or quota) is a
`NoSpaceError` (exit 2) naming the folder, the bytes needed and the bytes free; `--force` turns it
into a warning.  The call also records the estimate, so that when a write fails later with
ENOSPC, EDQUOT or EIO (in this process or a pool worker, whose exception multiprocessing re-raises
here) the CLI prints `<folder>: no space left (wrote X of about Y)` through `describe_space_error`
instead of a traceback.  Estimates come from the measured rates in `norlm.scale_rates`.

Temporary files (`norlm.files.atomic_path`) carry host and pid in their names, so a rerun can
remove the ones a dead writer left (`remove_stale_temporaries`) without touching a live writer's.
Standard library only (ground module).
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from norlm.errors import StageError

SPACE_ERRNOS = {errno.ENOSPC: "", errno.EDQUOT: "; the quota is full (EDQUOT)",
                errno.EIO: "; input/output error (EIO), what a full quota often gives on network file systems"}
# the same faults as TensorFlow reports them (its OpErrors carry the C library's text, not an errno)
SPACE_TEXTS = {"No space left on device": errno.ENOSPC, "Disk quota exceeded": errno.EDQUOT,
               "Input/output error": errno.EIO}
STALE_FOREIGN_SECONDS = 3600  # a temporary file of another host untouched this long is a dead writer's
TMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?:(?P<host>[A-Za-z0-9-]*)\+(?P<pid>\d+)\+)?[a-z0-9_]+\.tmp$")


class NoSpaceError(StageError):
    """Too little space for what a stage will write, or a write that ran out of space: exit 2."""


@dataclass
class Expectation:
    """What a stage said it would write into a folder, and how full the folder was then."""

    folder: Path
    need_bytes: int
    start_bytes: int


EXPECTED: list[Expectation] = []  # filled by preflight(); read when a write fails


def human(n: float) -> str:
    """Bytes in the largest unit that keeps the number >= 1 (decimal units, as df -H)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def existing_parent(path: str | os.PathLike) -> Path:
    """The folder itself, or its nearest existing ancestor (an output folder may not exist yet)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def quota_free(folder: Path) -> int | None:
    """Bytes left under a Lustre user quota (`lfs quota`), when that tool is on PATH; else None."""
    if shutil.which("lfs") is None:
        return None
    try:
        out = subprocess.run(["lfs", "quota", "-q", "-u", str(os.getuid()), str(folder)], capture_output=True,
                             text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    numbers = [int(tok.rstrip("*")) for tok in out.split() if tok.rstrip("*").isdigit()]
    # -q prints: filesystem, kbytes used, soft quota, hard limit, grace, files, ...
    if len(numbers) >= 3 and numbers[2] > 0:
        return max(0, numbers[2] - numbers[0]) * 1024
    return None


def free_bytes(folder: str | os.PathLike) -> tuple[int, str]:
    """(bytes a stage can still write under `folder`, where that figure came from)."""
    base = existing_parent(folder)
    free = shutil.disk_usage(base).free
    quota = quota_free(base)
    if quota is not None and quota < free:
        return quota, "lfs quota"
    return free, "free on the file system"


def folder_bytes(folder: str | os.PathLike) -> int:
    """Total size of the files under a folder (0 if it does not exist)."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512  # what fills the disk
            except OSError:
                continue
    return total


def preflight(folder: str | os.PathLike, need_bytes: float, force: bool = False, what: str = "") -> None:
    """Refuse (NoSpaceError) before any work when `need_bytes` will not fit under `folder`.

    Also removes temporary files dead writers left there, and records the estimate for the
    message of a write that fails later.  `what` says what the estimate covers.
    """
    from norlm.errors import warn

    folder = Path(folder).absolute()
    remove_stale_temporaries(folder)
    need = int(need_bytes)
    EXPECTED.append(Expectation(folder, need, folder_bytes(folder)))
    free, source = free_bytes(folder)
    if need <= free:
        return
    message = (f"{folder}: not enough space: needs about {human(need)}{f' ({what})' if what else ''}, "
               f"{human(free)} {source}")
    if force:
        warn(f"{message}; going on (--force)")
        return
    raise NoSpaceError(f"{message}; free some space, point the work folder elsewhere, or pass --force")


def text_bytes(paths) -> int:
    """Bytes of text in files: a .gz file's own record of its uncompressed size (mod 4 GiB: one
    member up to 4 GiB, as the corpus writes them), else the size on disk."""
    total = 0
    for path in paths:
        size = os.path.getsize(path)
        if str(path).endswith(".gz") and size >= 18:
            with open(path, "rb") as fh:
                fh.seek(-4, os.SEEK_END)
                total += max(size, int.from_bytes(fh.read(4), "little"))
        else:
            total += size
    return total


def rate_estimate(stages: tuple[str, ...], input_bytes: float, dupe_factor: int = 0) -> tuple[int, str]:
    """(bytes written for `input_bytes` of text, how that was estimated) from the first measured rate
    of `stages` in norlm/scale_rates.json; (0, ...) when none of them has one."""
    from norlm.scale_rates import load_rates

    rates = load_rates()
    for key in stages:
        rate = rates.get(key)
        if rate is not None and rate.out_bytes_per_in_byte > 0:
            dupe = f" at dupe {dupe_factor}" if dupe_factor and rate.dupe_factor else ""
            return int(rate.output_bytes(input_bytes, dupe_factor)), (
                f"{human(input_bytes)} of text x {rate.out_bytes_per_in_byte:g}{dupe} "
                f"({key}, {rate.basis})")
    return 0, f"no measured output rate for {stages[0]} in norlm/scale_rates.json"


def preflight_rate(folder: str | os.PathLike, stages: tuple[str, ...], input_bytes: float, force: bool = False,
                   dupe_factor: int = 0) -> int:
    """`preflight` for a stage whose output grows with its input text; what the folder already holds
    counts as written (a rerun reuses or replaces it).  Returns the estimate."""
    need, how = rate_estimate(stages, input_bytes, dupe_factor)
    preflight(folder, max(0, need - folder_bytes(folder)), force, what=how)
    return need


def checkpoint_preflight(folder: str | os.PathLike, per_checkpoint: int, keep: int, force: bool, prefix: str) -> None:
    """`preflight` for a trainer that keeps `keep` checkpoints of `per_checkpoint` bytes (one more while
    it writes the next); the checkpoints already there count as room, since new ones replace them.
    Leftover `<prefix>-N_temp` folders of a save cut short are removed first (one trainer per folder)."""
    remove_checkpoint_temps(folder)
    existing = sum(p.stat().st_size for p in Path(folder).glob(f"{prefix}-*") if p.is_file())
    preflight(folder, max(0, per_checkpoint * (keep + 1) - existing), force,
              what=f"{keep} + 1 checkpoints of {per_checkpoint / 1e6:.1f} MB")


# --------------------------------------------------------------------------- temporary files

TF_TEMP = re.compile(r"-\d+_temp$")  # TensorFlow writes checkpoint <prefix>-N through <prefix>-N_temp/


def remove_checkpoint_temps(folder: str | os.PathLike) -> int:
    """Delete the `<prefix>-N_temp` folders a TensorFlow save cut short left under `folder`; their bytes."""
    removed = 0
    for root, dirs, _ in os.walk(folder):
        for name in [d for d in dirs if TF_TEMP.search(d)]:
            removed += folder_bytes(Path(root) / name)
            shutil.rmtree(Path(root) / name, ignore_errors=True)
            dirs.remove(name)
    return removed

def temp_tag() -> str:
    """`host+pid+`: the part of a temporary file's name that says who writes it."""
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]
    return f"{host}+{os.getpid()}+"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """A temporary file whose writer is gone: a dead pid on this host, or untouched for an hour elsewhere.

    Names without a writer tag (written before tags existed) are always stale.
    """
    m = TMP_NAME.match(path.name)
    if m is None:
        return False
    if m["pid"] is None:
        return True
    if m["host"] == temp_tag().split("+")[0]:
        return int(m["pid"]) != os.getpid() and not _pid_alive(int(m["pid"]))
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except OSError:
        return False
    return age > STALE_FOREIGN_SECONDS


def remove_stale_temporaries(folder: str | os.PathLike, failing: bool = False) -> list[Path]:
    """Delete the stale `.NAME.*.tmp` files under a folder (recursively); returns them.

    `failing`: this process is about to exit with an error, so its own temporary files go too
    (quietly: the error line is the one line the user sees).
    """
    removed = []
    own = f"+{os.getpid()}+"
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if name.endswith(".tmp") and (is_stale(path) or (failing and own in name)):
                try:
                    path.unlink()
                except OSError:
                    continue
                removed.append(path)
    if removed and not failing:
        from norlm.errors import warn

        warn(f"removed {len(removed)} temporary file(s) an interrupted run left under {folder} "
             f"(e.g. {removed[0].name})")
    return removed


# --------------------------------------------------------------------------- a write that fails

def space_errno(exc: BaseException | None) -> int | None:
    """ENOSPC / EDQUOT / EIO if `exc` (or what caused it) is such a failure, else None."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in SPACE_ERRNOS:
            return exc.errno
        text = str(exc)
        for needle, code in SPACE_TEXTS.items():
            if needle in text:
                return code
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def note_partial(exc: BaseException, path: Path) -> None:
    """Remember on the exception how many bytes a discarded temporary file held (for 'wrote X')."""
    try:
        size = path.stat().st_size if path.is_file() else folder_bytes(path)
    except OSError:
        return
    try:
        exc.norlm_partial_bytes = getattr(exc, "norlm_partial_bytes", 0) + size
        if getattr(exc, "norlm_path", None) is None:
            exc.norlm_path = str(path)
    except AttributeError:  # pragma: no cover - exceptions that refuse attributes
        pass


def _expectation_for(path: str | None) -> Expectation | None:
    if not EXPECTED:
        return None
    if path:
        target = Path(path).absolute()
        for exp in reversed(EXPECTED):
            if exp.folder == target or exp.folder in target.parents:
                return exp
    return EXPECTED[-1]


def describe_space_error(exc: BaseException) -> str | None:
    """`<folder>: no space left (wrote X of about Y)` for a space failure, else None."""
    code = space_errno(exc)
    if code is None:
        return None
    path = getattr(exc, "norlm_path", None) or getattr(exc, "filename", None)
    exp = _expectation_for(path)
    detail = SPACE_ERRNOS[code]
    if exp is None:
        where = Path(path).parent if path else Path.cwd()
        return f"{where}: no space left{detail}"
    # what is on disk now (temporary files still there included) plus the discarded ones
    wrote = max(0, folder_bytes(exp.folder) - exp.start_bytes) + getattr(exc, "norlm_partial_bytes", 0)
    remove_stale_temporaries(exp.folder, failing=True)
    remove_checkpoint_temps(exp.folder)
    free, source = free_bytes(exp.folder)
    return (f"{exp.folder}: no space left (wrote {human(wrote)} of about {human(exp.need_bytes)}; "
            f"{human(free)} {source} now){detail}")
