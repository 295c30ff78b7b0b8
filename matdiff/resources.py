"""The one place that locates the data files: grammar/ and identities/.

In a wheel they are installed inside the package (``matdiff/grammar``); in a source
checkout or an editable install they sit at the top of the repository.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"matdiff data folder {name!r} is missing from the installation")


def grammar_path() -> Path:
    return data_dir("grammar") / "matdiff.lark"


def identities_dir() -> Path:
    return data_dir("identities")
