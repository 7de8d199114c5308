"""DLLogger JSON-lines writer (`DLLL {json}` lines, bert-recipe spec 2.9) for the ELMo training log.

A minimal writer of the same line format as the BERT stage's logs, so one parser reads both.
"""
from __future__ import annotations

import json
import os
import time
from datetime import datetime
from typing import Any


class DLLogWriter:
    def __init__(self, path: str | os.PathLike, metrics: dict[str, dict[str, Any]] | None = None, append: bool = False):
        self.path = str(path)
        self.start = time.time()
        fresh = not append or not os.path.exists(self.path)
        self.fh = open(self.path, "a" if append else "w", encoding="utf-8")
        if fresh:
            for metric, meta in (metrics or {}).items():
                self._write({"type": "METADATA", "metric": metric, "metadata": meta})

    def _write(self, record: dict[str, Any]) -> None:
        now = time.time()
        line = {"timestamp": f"{now:.6f}", "datetime": str(datetime.now()), "elapsedtime": f"{now - self.start:.3f}"}
        line.update(record)
        self.fh.write("DLLL " + json.dumps(line) + "\n")
        self.fh.flush()

    def log(self, step: int | list, data: dict[str, Any]) -> None:
        self._write({"type": "LOG", "step": step, "data": data})

    def close(self) -> None:
        self.fh.close()


def read_dllog(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The JSON records of a DLLL file (lines without the prefix are ignored)."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("DLLL "):
                out.append(json.loads(line[5:]))
    return out
