"""Shared checks for datasets read from a person's own files."""

from __future__ import annotations

from pathlib import Path

from engine.blocks.spec import Param
from engine.data.registry import DataError, path_param, seed_param


def existing_file(path_text: str, what: str) -> Path:
    """The path as a Path if it is a readable file, else DataError naming it."""
    path = Path(path_text)
    if path.is_dir():
        raise DataError(f"dataset.params.path: {path} is a folder; expected {what}")
    if not path.is_file():
        raise DataError(f"dataset.params.path: no such file: {path}")
    return path


def existing_folder(path_text: str, what: str) -> Path:
    path = Path(path_text)
    if path.is_file():
        raise DataError(f"dataset.params.path: {path} is a file; expected {what}")
    if not path.is_dir():
        raise DataError(f"dataset.params.path: no such folder: {path}")
    return path


def file_params(path_help: str, *extra: Param) -> tuple[Param, ...]:
    """path first, then the dataset's own params, then shuffle and seed."""
    return (
        path_param(path_help),
        *extra,
        Param(
            "shuffle",
            "bool",
            True,
            "Put samples in a random (seeded) order, so a validation split taken from the "
            "end mixes classes. Untick for data in time order.",
        ),
        seed_param(),
    )
