"""Bundled data and full-scale downloads.

  norlm data verify              check every file under data/ against data/manifest.tsv
  norlm data manifest            rewrite data/manifest.tsv from the files present (maintainers)
  norlm data list                what data/remote.toml can fetch
  norlm data fetch NAME --dest D download NAME (resumable), verify its checksum, then rename into D

Nothing here runs in a normal stage: stages only read files.  `fetch` is for cluster set-up, and a
download is never left in place unless its checksum matched.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import urllib.request
from pathlib import Path
from typing import Any

from norlm.compat import tomllib
from norlm.config import REPO_ROOT
from norlm.errors import StageError, StageFailure, warn

MANIFEST = "data/manifest.tsv"
REMOTE = "data/remote.toml"
CHUNK = 1 << 20
FULL_DIR = "full"  # data/full/: where cluster downloads go (git-ignored, not part of the bundle)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["verify", "manifest", "list", "fetch"], help="what to do")
    parser.add_argument("name", nargs="?", help="fetch: the entry of data/remote.toml to download, or 'all'")
    parser.add_argument("--data-dir", default=str(REPO_ROOT / "data"), help="bundled data folder (default: data/)")
    parser.add_argument("--manifest", default=None, help="manifest TSV (default: <data-dir>/manifest.tsv)")
    parser.add_argument("--remote", default=str(REPO_ROOT / REMOTE), help="download manifest (default: data/remote.toml)")
    parser.add_argument("--dest", default=None, help="fetch: destination folder")
    parser.add_argument("--url", default=None, help="fetch: override the entry's URL (a mirror, or file:// for tests)")
    parser.add_argument("--accept-unverified", action="store_true",
                        help="fetch: keep a download whose entry has no published checksum, and print its sha256 "
                             "so it can be recorded in data/remote.toml")


# --------------------------------------------------------------------------- manifest of bundled files

def _bundled_files(data_dir: Path, manifest: Path) -> list[Path]:
    skip = {manifest.resolve()}
    full = (data_dir / FULL_DIR).resolve()
    return sorted(p for p in data_dir.rglob("*") if p.is_file() and p.resolve() not in skip
                  and not p.name.startswith(".") and full not in p.resolve().parents)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def git_blob_of(path: Path) -> str:
    """`git hash-object` of a file: sha1 of 'blob <size>\\0' + content."""
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(data_dir: Path, manifest: Path) -> int:
    rows = ["path\tbytes\tsha256"]
    for path in _bundled_files(data_dir, manifest):
        rows.append(f"{path.relative_to(data_dir).as_posix()}\t{path.stat().st_size}\t{sha256_of(path)}")
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    os.replace(tmp, manifest)
    return len(rows) - 1


def verify(data_dir: Path, manifest: Path) -> list[str]:
    """Problems found (empty list = every file present, right size, right sha256, none extra)."""
    problems = []
    listed = set()
    with open(manifest, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if header != ["path", "bytes", "sha256"]:
            return [f"{manifest}:1: unexpected header {header}"]
        for lineno, line in enumerate(fh, start=2):
            if not line.strip():
                continue
            try:
                rel, size, digest = line.rstrip("\n").split("\t")
            except ValueError:
                problems.append(f"{manifest}:{lineno}: malformed line")
                continue
            listed.add(rel)
            path = data_dir / rel
            if not path.is_file():
                problems.append(f"missing: {rel}")
            elif path.stat().st_size != int(size):
                problems.append(f"size differs: {rel} ({path.stat().st_size} bytes, manifest says {size})")
            elif sha256_of(path) != digest:
                problems.append(f"checksum differs: {rel} (sha256 {sha256_of(path)[:12]}…, manifest says {digest[:12]}…)")
    for path in _bundled_files(data_dir, manifest):
        rel = path.relative_to(data_dir).as_posix()
        if rel not in listed:
            problems.append(f"not in manifest: {rel}")
    return problems


# --------------------------------------------------------------------------- downloads

def load_remote(path: str | Path) -> dict[str, dict[str, Any]]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    entries = data.get("file", {})
    for name, entry in entries.items():
        if "url" not in entry or "filename" not in entry:
            raise ValueError(f"{path}: entry '{name}' needs url and filename")
    return entries


def _published_sha1(entry: dict[str, Any]) -> str | None:
    """The sha1 of entry's file from the publisher's checksum list (Wikimedia's `*-sha1sums.txt`)."""
    with urllib.request.urlopen(entry["sha1_list_url"], timeout=60) as resp:
        for line in resp.read().decode("utf-8", "replace").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == entry["filename"]:
                return parts[0]
    return None


def _checksum_ok(path: Path, entry: dict[str, Any], accept_unverified: bool = False) -> tuple[bool, str]:
    if entry.get("sha256"):
        got = sha256_of(path)
        return got == entry["sha256"], f"sha256 {got}, expected {entry['sha256']}"
    if entry.get("git_blob"):
        got = git_blob_of(path)
        return got == entry["git_blob"], f"git blob {got}, expected {entry['git_blob']}"
    if entry.get("sha1") or entry.get("sha1_list_url"):
        expected = entry.get("sha1") or _published_sha1(entry)
        h = hashlib.sha1()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(CHUNK), b""):
                h.update(block)
        return h.hexdigest() == expected, f"sha1 {h.hexdigest()}, expected {expected}"
    if accept_unverified:
        return True, f"UNVERIFIED (no published checksum): sha256 {sha256_of(path)} - record it in data/remote.toml"
    return False, ("the entry has no checksum (sha256, git_blob, sha1 or sha1_list_url); refusing to keep the "
                   "download (use --accept-unverified to keep it and record its sha256)")


def fetch(entry: dict[str, Any], dest: Path, url: str | None = None, log=print, accept_unverified: bool = False) -> Path:
    """Download `entry` into `dest` through a `.part` file, resuming a partial one; verify; rename."""
    url = url or entry["url"]
    dest.mkdir(parents=True, exist_ok=True)
    final = dest / entry["filename"]
    if final.exists():
        ok, detail = _checksum_ok(final, entry)
        if ok:
            log(f"{final}: already present and verified")
            return final
        raise RuntimeError(f"{final} exists but does not match the manifest ({detail}); remove it and fetch again")
    part = final.with_name(final.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    with urllib.request.urlopen(request, timeout=60) as resp:
        status = getattr(resp, "status", None)
        if offset and url.startswith("file:"):
            resp.read(offset)  # file:// ignores Range: skip what we already have
            log(f"resuming {entry['filename']} at byte {offset}")
        elif offset and status == 206:
            log(f"resuming {entry['filename']} at byte {offset}")
        elif offset:
            log(f"server ignored the resume request; downloading {entry['filename']} from the start")
            offset = 0
        with open(part, "ab" if offset else "wb") as out:
            for block in iter(lambda: resp.read(CHUNK), b""):
                out.write(block)
    ok, detail = _checksum_ok(part, entry, accept_unverified)
    if ok and detail.startswith("UNVERIFIED"):
        log(detail)
    if not ok:
        part.unlink()
        raise RuntimeError(f"checksum mismatch for {entry['filename']} from {url}: {detail}; nothing was kept")
    os.replace(part, final)
    log(f"{final}: downloaded and verified")
    return final


def main(args: argparse.Namespace, cfg: Any) -> int:
    data_dir = Path(args.data_dir)
    manifest = Path(args.manifest) if args.manifest else data_dir / "manifest.tsv"
    if args.action == "manifest":
        n = write_manifest(data_dir, manifest)
        print(f"{manifest}: {n} files")
        return 0
    if args.action == "verify":
        problems = verify(data_dir, manifest)
        for problem in problems:
            warn(problem)
        if problems:
            raise StageError(f"{len(problems)} problem(s) in {data_dir} against {manifest}")
        n = sum(1 for line in open(manifest, encoding="utf-8")) - 1
        print(f"data verify: all {n} files in {manifest} match")
        return 0
    entries = load_remote(args.remote)
    if args.action == "list":
        for name, entry in entries.items():
            print(f"{name:28s} {entry['filename']:48s} {entry.get('note', '')}")
        return 0
    if not args.name or not args.dest:
        raise StageError("fetch needs NAME and --dest DIR (see `norlm data list`)")
    if args.name != "all" and args.name not in entries:
        raise StageError(f"unknown entry '{args.name}' in {args.remote}; known: {', '.join(entries)}")
    names = list(entries) if args.name == "all" else [args.name]
    failed = 0
    for name in names:
        try:
            fetch(entries[name], Path(args.dest), args.url if len(names) == 1 else None,
                  accept_unverified=args.accept_unverified)
        except (RuntimeError, OSError) as exc:
            warn(f"fetch {name}: {exc}")
            failed += 1
    if failed:
        raise StageFailure(f"{failed} of {len(names)} download(s) failed (see the warnings above)")
    return 0
