"""Hostile series files: each one loads or is refused with one DataError line — never a
traceback, never non-finite samples — and quickly (the work is bounded by the file)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import pytest

from engine.data import DataError, dataset_input_shape, load_dataset
from tests.engine.byte_mutations import flip, splice, truncate

GOOD = "date,temp,sales\n" + "".join(
    f"2024-01-{day:02d},{10 + day * 0.5},{100 + 3 * day + (day % 7)}\n" for day in range(1, 29)
)

CRAFTED: dict[str, bytes | str] = {
    "empty": "",
    "header only": "date,v\n",
    "one column": "date\n2024-01-01\n2024-01-02\n",
    "binary": bytes(range(256)) * 8,
    "nul bytes": "date,v\n2024-01-01,\x001\n",
    "every value empty": "date,v\n2024-01-01,\n2024-01-02,\n2024-01-03,\n",
    "every time empty": "date,v\n,1\n,2\n,3\n",
    "mixed time zones": "date,v\n2024-01-01T00:00+01:00,1\n2024-01-01T00:30Z,2\n"
    "2024-01-02,3\n2024-01-03,4\n",
    "a time that is no time": "date,v\n2024-01-01,1\nsoon,2\n2024-01-03,3\n",
    "dates out of range": "date,v\n0001-01-01,1\n9999-12-31,2\n2024-13-45,3\n",
    "zero and minus zero": "year,v\n0,1\n-0,2\n1,3\n",
    "infinite and huge values": "year,v\n1,inf\n2,1e308\n3,-1e308\n4,5\n5,6\n",
    "huge but finite values": "year,v\n1,1e14\n2,-1e14\n3,1e14\n4,-1e14\n5,0\n",
    "constant series": "year,v\n" + "".join(f"{y},7\n" for y in range(30)),
    "text everywhere": "date,v\n2024-01-01,a\n2024-01-02,b\n2024-01-03,c\n",
    "duplicate header": "date,v,v\n2024-01-01,1,2\n2024-01-02,3,4\n",
    "short row": "date,v\n2024-01-01,1\n2024-01-02\n",
    "unclosed quote": 'date,v\n2024-01-01,"1\n2024-01-02,2\n',
    "a cell over 128 KiB": "date,v\n2024-01-01," + "9" * 140_000 + "\n",
    "many columns": "date,"
    + ",".join(f"c{i}" for i in range(300))
    + "\n"
    + "".join(f"2024-01-{d:02d}," + ",".join("1" for _ in range(300)) + "\n" for d in (1, 2, 3)),
    "semicolons and decimal commas": "date;v\n2024-01-01;1,5\n2024-01-02;2,5\n2024-01-03;3,5\n",
    "utf-16 with bom": "date,v\n2024-01-01,1\n2024-01-02,2\n".encode("utf-16"),
}
PARAMS = [
    {"window": 2},
    {"window": 3, "horizon": 2, "forecast": "value"},
    {"window": 10_000},
    {"window": 2, "time": "sales"},
    {"window": 2, "target": "date"},
    {"window": 2, "features": ["nope"]},
    {"window": 2, "standardise": False},
]


def mutated(seed: int) -> bytes:
    rng = random.Random(seed)
    damage = rng.choice([truncate, flip, splice])
    return damage(rng, GOOD.encode())


def check_loads_or_refuses(path: Path, params: dict) -> None:
    began = time.perf_counter()
    try:
        data = load_dataset("series", {"path": str(path), **params})
    except DataError as err:
        message = str(err)
        assert message and "\n" not in message and "Traceback" not in message
    else:
        assert np.isfinite(data.x).all() and np.isfinite(data.y).all()
        assert data.prepare is not None
        prepared = data.prepare(np.arange(max(1, len(data) // 2)))
        assert np.isfinite(prepared.x).all() and np.isfinite(prepared.y).all()
        try:
            assert dataset_input_shape("series", {"path": str(path), **params})[0] == (
                data.sample_shape
            )
        except DataError:
            pytest.fail("the shape of a series that loads was refused")
    assert time.perf_counter() - began < 10  # generous on busy cores; real cost ~10 ms


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_series_files_load_or_are_one_line(tmp_path: Path, name: str) -> None:
    content = CRAFTED[name]
    path = tmp_path / "series.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    for params in PARAMS[:2]:
        check_loads_or_refuses(path, params)


def test_bad_params_on_a_good_series_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text(GOOD, encoding="utf-8")
    for params in PARAMS:
        check_loads_or_refuses(path, params)


def test_damaged_series_files_load_or_are_one_line(tmp_path: Path) -> None:
    for seed in range(60):
        path = tmp_path / f"damaged_{seed}.csv"
        path.write_bytes(mutated(seed))
        check_loads_or_refuses(path, PARAMS[seed % 2])


def damaged_preprocessing(good: dict) -> list[dict]:
    """The run's stored preprocessing with one field broken at a time."""
    cases = []
    for key, bad in [
        ("time", 3),
        ("features", []),
        ("features", ["temp", 7]),
        ("target", "nope"),
        ("window", 0),
        ("horizon", "1"),
        ("scale", None),
    ]:
        cases.append({**good, key: bad})
    for part, field, bad in [
        ("inputs", "mean", [0.0]),
        ("inputs", "std", [1.0, 0.0]),
        ("targets", "std", [float("nan")]),
        ("targets", "mean", "zero"),
    ]:
        scale = {**good["scale"], part: {**good["scale"][part], field: bad}}
        cases.append({**good, "scale": scale})
    cases.append({**good, "scale": {**good["scale"], "forecast": "guess"}})
    cases.append({key: value for key, value in good.items() if key != "features"})
    return cases


def test_damaged_stored_preprocessing_is_one_line(tmp_path: Path) -> None:
    from engine.data.as_trained import as_trained
    from engine.data.series import forecast_inputs

    path = tmp_path / "series.csv"
    path.write_text(GOOD, encoding="utf-8")
    data = load_dataset("series", {"path": str(path), "window": 3})
    assert data.prepare is not None
    good = data.prepare(np.arange(10)).preprocessing
    for damaged in damaged_preprocessing(good):
        with pytest.raises(DataError, match=r"^the stored series preprocessing has a damaged"):
            forecast_inputs(damaged, path)
        with pytest.raises(DataError, match=r"^the stored series preprocessing has a damaged"):
            as_trained(data, damaged)


def test_a_time_column_of_text_is_refused_after_its_first_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text is tried as dates cell by cell (slowly): only the first cells are tried."""
    from engine.data import series_reading

    tried: list[int] = []
    seconds = series_reading._seconds

    def counting(cells: np.ndarray, mixed: bool) -> np.ndarray:
        tried.append(len(cells))
        return seconds(cells, mixed)

    monkeypatch.setattr(series_reading, "_seconds", counting)
    rows = "".join(f"soon {i},{i}\n" for i in range(20_000))
    path = tmp_path / "series.csv"
    path.write_text("date,v\n" + rows, encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2, column 'date': expected a date, time or number"):
        load_dataset("series", {"path": str(path), "window": 2})
    assert sum(tried) <= 2 * series_reading.PARSE_CHUNK
