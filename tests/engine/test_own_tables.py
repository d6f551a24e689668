"""A person's messy table trains as saved: `;`, decimal commas, a BOM, quoted cells, an id
column, text labels, empty cells, a category column — and matches logistic regression."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from engine.cli.main import run
from engine.data import DataError, dataset_input_shape, load_dataset
from engine.project.project import load
from engine.train.config import TrainConfig
from engine.train.trainer import Trainer


def write_messy_cancer(path: Path, seed: int = 0) -> None:
    """Breast cancer (569 rows) as a European spreadsheet would save it, made messy."""
    bunch = load_breast_cancer()
    rng = np.random.default_rng(seed)
    rows = len(bunch.target)
    names = [str(n) for n in bunch.feature_names]
    ids = rng.choice(np.arange(10_000, 99_999), size=rows, replace=False)
    # One clinic's name holds the separator: the writer quotes it.
    clinics = rng.choice(["north; wing B", "south", "east"], size=rows)
    header = ["patient_id", *names, "clinic", "referral note", "diagnosis"]
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        for i in range(rows):
            values = [f"{v:.6g}".replace(".", ",") for v in bunch.data[i]]
            for j in (2, 7, 21):  # a few empty cells in three columns
                if rng.random() < 0.04:
                    values[j] = ""
            note = f"{rng.integers(1, 9)}" if rng.random() < 0.2 else ""  # mostly empty
            label = "malignant" if bunch.target[i] == 0 else "benign"
            writer.writerow([f"{ids[i]}", *values, clinics[i], note, label])


def linear_project(features: int, table: Path, **training: Any) -> dict[str, Any]:
    """Logistic regression as a net: one Dense of two class scores."""
    return {
        "format": "netloom",
        "version": 1,
        "name": "messy table",
        "nodes": [
            {"id": "row", "type": "Input", "params": {"shape": [features]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 2}},
            {"id": "diagnosis", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "row", "target": "dense1"},
            {"source": "dense1", "target": "diagnosis"},
        ],
        "training": {
            "dataset": {"name": "csv", "params": {"path": table.name, "target": "diagnosis"}},
            "lr": 0.01,
            "batch_size": 32,
            "epochs": 15,
            **training,
        },
    }


@pytest.fixture
def messy_table(tmp_path: Path) -> Path:
    path = tmp_path / "cancer.csv"
    write_messy_cancer(path)
    return path


def test_the_messy_file_is_what_the_test_says(messy_table: Path) -> None:
    raw = messy_table.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte-order mark
    text = raw.decode("utf-8-sig")
    first = text.splitlines()[1]
    assert ";" in first and re.search(r"\d,\d", first) and ";;" in text
    assert '"north; wing B"' in text and "malignant" in text


def test_a_messy_table_trains_with_no_hand_edits_and_matches_logistic_regression(
    messy_table: Path, tmp_path: Path, capsys: Any, one_torch_thread: None
) -> None:
    params = {"path": str(messy_table), "target": "diagnosis"}
    (width,), sequence = dataset_input_shape("csv", params)
    assert width == 30 + 3 and not sequence  # 30 measurements, 3 clinics; id and note dropped
    doc = linear_project(width, messy_table)
    project = tmp_path / "messy.json"
    project.write_text(json.dumps(doc), encoding="utf-8")

    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert notes[0] == (
        "note: column 'patient_id' is unique per row — dropped as an identifier; "
        "keep it with features=[…]"
    )
    assert any("'referral note' more than half empty — dropped" in n for n in notes)
    assert any("'clinic' (3 values) one-hot encoded" in n for n in notes)
    assert any("empty cells filled with the training rows' median" in n for n in notes)
    final = float(re.search(r"^final: accuracy=([\d.]+)$", out, re.M).group(1))

    # Logistic regression on the same split and the same prepared features.
    data = load_dataset("csv", params)
    trainer = Trainer(load(project), data, TrainConfig.from_dict(doc["training"]))
    assert trainer.val_split is not None
    train_x, train_y = trainer.train_split.x.numpy(), trainer.train_split.y.numpy()
    val_x, val_y = trainer.val_split.x.numpy(), trainer.val_split.y.numpy()
    baseline = LogisticRegression(max_iter=2000).fit(train_x, train_y).score(val_x, val_y)
    assert final >= baseline - 0.01, (final, baseline)
    # The split is stratified: both parts hold the classes in the file's proportions.
    share = np.bincount(data.y) / len(data.y)
    assert np.allclose(np.bincount(val_y) / len(val_y), share, atol=0.01)


def test_a_text_column_with_many_values_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    rows = [f"{i};comment {i % 40};{i % 2}" for i in range(60)]
    path.write_text("size;remark;label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_dataset("csv", {"path": str(path), "target": "label"})
    message = str(caught.value)
    assert message.startswith(f"{path} line 2, column 'remark': expected a number, got 'comment 0'")
    assert "40 different values in 60 rows" in message and "categorical=[…]" in message
    data = load_dataset("csv", {"path": str(path), "target": "label", "drop": ["remark"]})
    assert data.feature_names == ["size"]


@pytest.mark.parametrize(
    ("text", "encoding", "sep"),
    [
        ("a\tb\tlabel\n1.5\t2\tx\n2.5\t3\ty\n3.5\t1\tx\n", "utf-8", "\t"),
        ("a|b|label\n1.5|2|x\n2.5|3|y\n3.5|1|x\n", "utf-8", "|"),
        ('a,b,label\n"1.5",2,"x"\n2.5,3,y\n3.5,1,x\n', "utf-8-sig", ","),
        ("a;b;label\n1,5;2;x\n2,5;3;y\n3,5;1;x\n", "cp1252", ";"),
        ("a\tb\tlabel\n1,5\t2\tx\n2,5\t3\ty\n3,5\t1\tx\n", "utf-16", "\t"),
        ("a;b;label\n1,5;2;\u00e9t\u00e9\n2,5;3;y\n3,5;1;\u00e9t\u00e9\n", "cp1252", ";"),
    ],
)
def test_separators_decimal_commas_encodings_and_quotes(
    tmp_path: Path, text: str, encoding: str, sep: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    params = {"path": str(path), "target": "label", "shuffle": False, "standardise": False}
    data = load_dataset("csv", params)
    assert data.x[:, 0].tolist() == [1.5, 2.5, 3.5] and data.x[:, 1].tolist() == [2, 3, 1]
    names = data.class_names or []
    labels = [line.split(sep)[-1].strip('"') for line in text.splitlines()[1:]]
    assert [names[i] for i in data.y] == labels


def test_named_columns_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,0\n3,4,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"^dataset.params.drop: .* has no column 'c' \(columns"):
        load_dataset("csv", {"path": str(path), "target": "y", "drop": ["c"]})
    with pytest.raises(DataError, match=r"^dataset.params.features: 'y' is the target column"):
        load_dataset("csv", {"path": str(path), "target": "y", "features": "a, y"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xef\xbb\xbfa,label\n1,\xde\x00\n", "not a UTF-8 text file"),
        (b"a,label\n1,x\x00\xff\n", "not a UTF-8 text file"),
        (b"\xff\xfe" + "a,label\n".encode("utf-16-le") + b"\x00\xd8", "not a UTF-16 text"),
    ],
)
def test_undecodable_bytes_are_one_data_error(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    with pytest.raises(DataError, match=message):
        load_dataset("csv", {"path": str(path), "target": "label"})
