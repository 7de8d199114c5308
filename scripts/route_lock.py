"""Route lock files (requirements/routes/ROUTE.txt): read them, pick extras.txt's pins for one Python,
and rewrite a lock from `pip freeze` keeping each pin's note.  Standard library only: it runs in a
fresh route venv and in the tests.

    python scripts/route_lock.py extras recipes/containers/extras.txt       pins for this Python
    pip freeze | python scripts/route_lock.py rewrite LOCK EXTRAS           new lock from the freeze
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*(?:;\s*([^#]*?))?\s*(?:#\s*(.*))?$")
MARKER = re.compile(r'^python_version\s*(<|<=|>|>=|==|!=)\s*"(\d+)\.(\d+)"$')


def canonical(name: str) -> str:
    """The name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str = ""
    note: str = ""  # "route: <module or image>", "extras: ..." or empty (resolved by pip)


@dataclass
class Lock:
    path: Path
    header: list[str] = field(default_factory=list)
    directives: dict[str, str] = field(default_factory=dict)
    pins: dict[str, Pin] = field(default_factory=dict)

    @property
    def python(self) -> str:
        return self.directives["python"]

    @property
    def engine(self) -> str:
        return self.directives["engine"]

    def route_pins(self) -> dict[str, Pin]:
        return {k: p for k, p in self.pins.items() if p.note.startswith("route:")}


def parse_pins(lines: list[str], where: str) -> list[Pin]:
    """`name==version[; marker]  [# note]` lines; blank and comment lines skipped; anything else refused."""
    pins = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = REQ.match(line.strip())
        if not match:
            raise ValueError(f"{where}:{number}: not a `name==version` pin: {line.strip()}")
        name, version, marker, note = match.groups()
        pins.append(Pin(name, version, (marker or "").strip(), (note or "").strip()))
    return pins


def read_lock(path: Path) -> Lock:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    lock = Lock(Path(path))
    for line in lines:
        if line.startswith("#@ "):
            key, _, value = line[3:].partition(" ")
            lock.directives[key] = value.strip()
        if line.startswith("#"):
            lock.header.append(line)
    for pin in parse_pins(lines, str(path)):
        lock.pins[canonical(pin.name)] = pin
    return lock


def marker_applies(marker: str, python: tuple[int, int]) -> bool:
    """The one kind of marker extras.txt uses: python_version against a major.minor string."""
    if not marker:
        return True
    match = MARKER.match(marker)
    if not match:
        raise ValueError(f"unsupported marker {marker!r} (only python_version comparisons)")
    op, major, minor = match.group(1), int(match.group(2)), int(match.group(3))
    a, b = python, (major, minor)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]


def extras_for(path: Path, python: tuple[int, int]) -> dict[str, Pin]:
    """extras.txt's pins that apply on `python` (major, minor), by canonical name."""
    pins = parse_pins(Path(path).read_text(encoding="utf-8").splitlines(), str(path))
    chosen = {canonical(p.name): p for p in pins if marker_applies(p.marker, python)}
    return dict(sorted(chosen.items()))


def rewrite(lock_path: Path, extras_path: Path, freeze: list[str]) -> str:
    """The lock text for a new `pip freeze`: header kept, each route pin kept with its note (its version
    must not have moved), extras marked, the rest plain; sorted by name."""
    lock = read_lock(lock_path)
    python = tuple(int(x) for x in lock.python.split("."))
    extras = {} if lock_path.stem == "saga-easybuild" else extras_for(extras_path, python)
    routes = lock.route_pins()
    lines = {}
    for pin in parse_pins(freeze, "pip freeze"):
        key = canonical(pin.name)
        if key in routes:
            if routes[key].version != pin.version:
                raise ValueError(f"{lock_path}: pip moved route pin {pin.name} {routes[key].version} -> {pin.version}")
            continue
        note = "  # extras: recipes/containers/extras.txt" if key in extras else ""
        lines[key] = f"{pin.name}=={pin.version}{note}"
    for key, pin in routes.items():  # route pins pip does not list (built here) stay as they were
        lines[key] = f"{pin.name}=={pin.version}  # {pin.note}"
    for key, pin in extras.items():  # extras built here (mpi4py against the system MPI)
        lines.setdefault(key, f"{pin.name}=={pin.version}  # extras: recipes/containers/extras.txt")
    return "\n".join([*lock.header, *(lines[k] for k in sorted(lines))]) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["extras"] and len(argv) == 2:
        for pin in extras_for(Path(argv[1]), sys.version_info[:2]).values():
            print(f"{pin.name}=={pin.version}")
        return 0
    if argv[:1] == ["rewrite"] and len(argv) == 3:
        text = rewrite(Path(argv[1]), Path(argv[2]), sys.stdin.read().splitlines())
        tmp = Path(argv[1]).with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, argv[1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
