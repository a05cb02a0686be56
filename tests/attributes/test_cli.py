"""CLI: evaluate on one catalogue file and score another; predict every item x attribute of a catalogue the model never
saw."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.cli import main
from tests.attributes.conftest import FAST, synthetic_catalogue


@pytest.fixture
def files(tmp_path):  # (train CSV, test CSV, test frame)
    train = synthetic_catalogue(240, seed=11)
    test = synthetic_catalogue(60, seed=12)
    test["item_id"] = [f"t{k:03d}" for k in range(len(test))]  # other items than the training file's
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    return tmp_path / "train.csv", tmp_path / "test.csv", test


def test_evaluate_trains_on_one_file_and_scores_the_labels_of_another(files, capsys) -> None:
    train, test, frame = files
    code = main(["evaluate", "attributes", "--train-catalogue", str(train), "--test-catalogue", str(test), "--json",
                 "--confusion", "--params", json.dumps(FAST)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    table = {row["attribute"]: row for row in result["table"]}
    assert set(table) == {"colour", "pattern", "sleeve_length"}
    for name, row in table.items():
        assert row["test_samples"] == int(frame[f"attr_{name}"].notna().sum())  # every labelled cell of the test file
        assert row["accuracy"] > row["majority_accuracy"]
        assert 0 <= row["baseline_f1"] <= 1
        assert sum(map(sum, result["confusion"][name]["matrix"])) == row["test_samples"]


def test_predict_writes_one_row_per_item_and_attribute(files, tmp_path, capsys) -> None:
    train, test, frame = files
    out = tmp_path / "predicted.csv"
    code = main(["attributes", "predict", "--train-catalogue", str(train), "--catalogue", str(test), "--out", str(out),
                 "--params", json.dumps({**FAST, "epochs": 3})])
    assert code == 0 and "wrote 180 rows" in capsys.readouterr().out
    written = pd.read_csv(out)
    assert list(written.columns[:4]) == ["item_id", "attribute", "predicted", "probability"]
    assert len(written) == len(frame) * 3
    assert set(written["item_id"]) == set(frame["item_id"])
    assert written["probability"].between(0, 1).all()
    assert not (tmp_path / "predicted.csv.tmp").exists()


def test_a_missing_file_is_refused_with_a_message(tmp_path, capsys) -> None:
    code = main(["evaluate", "attributes", "--train-catalogue", str(tmp_path / "nope.csv"),
                 "--test-catalogue", str(tmp_path / "nope.csv")])
    assert code != 0
    assert "file not found" in capsys.readouterr().err


def test_train_saves_and_activates_a_version_and_prints_its_table(attr_ws, capsys) -> None:
    # regression: the command trained and saved, then crashed reading the job id as a job ("'int' object has no
    # attribute 'result'")
    code = main(["train", "attributes", "--workspace", attr_ws.name, "--json", "--params",
                 json.dumps({**FAST, "epochs": 2})])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["version"] and {row["attribute"] for row in result["table"]} == {"colour", "pattern", "sleeve_length"}
    from core.services import models as versions

    assert versions.active_version(attr_ws, "attributes") == result["version"]


def test_a_table_without_the_baseline_shows_dashes_not_nan(files, capsys) -> None:
    train, test, _ = files
    code = main(["evaluate", "attributes", "--train-catalogue", str(train), "--test-catalogue", str(test),
                 "--no-baseline", "--params", json.dumps({**FAST, "epochs": 2})])
    out = capsys.readouterr().out
    assert code == 0 and "nan" not in out
    average = next(line for line in out.splitlines() if line.startswith("average"))
    assert average.split()[-3:-1] == ["—", "—"]  # the LR columns; the hybrid's network alone follows
