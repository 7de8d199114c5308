"""The NDT file -> UD split table (`data/norne/norne_ndt_split.tsv`), read in one place.

The corpus stage uses it to keep NorNE dev/test text out of pretraining; the evaluation stage uses
it to rebuild the NorNE train split.  Columns: lang, ndt_file, split, doc_group; '#' lines are comments.
"""
from __future__ import annotations

import os

from norlm.files import open_text

COLUMNS = ("lang", "ndt_file", "split", "doc_group")


def read_split_rows(path: str | os.PathLike, error: type[Exception] = ValueError) -> list[tuple[str, str, str, str]]:
    """Every row as (lang, ndt_file, split, doc_group); a short row raises `error` naming file and line."""
    rows = []
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) < len(COLUMNS):
                raise error(f"{path}:{lineno}: expected columns {', '.join(COLUMNS)}")
            rows.append((cols[0], cols[1], cols[2], cols[3]))
    return rows
