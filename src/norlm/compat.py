"""The one place that knows which Python it runs on.

LUMI's TensorFlow image has Python 3.10, whose standard library has no tomllib; tomli is the same
parser under another name (a `python_version < "3.11"` dependency), so every module imports
`tomllib` from here and reads TOML the same way on 3.10 and on 3.11+.
"""
from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["tomllib"]
