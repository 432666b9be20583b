"""Encoding table columns: numbers, categories, gaps, the stored form; target and task."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lernwerk.data.tables import encoding as table_encoding
from lernwerk.data.tables.encoding import TableEncoding
from lernwerk.data.tables.reader import read_table, read_table_inputs
from lernwerk.errors import DataError

# A German Excel export ("CSV UTF-8"): BOM, ";" between cells, decimal commas, umlauts.
GERMAN = "\ufeffTemperatur;Druck;Farbe;Qualität\n21,5;1,013;rot;gut\n22;0,998;grün;schlecht\n"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _error(call, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- the encoding ---------------------------------------------------------------------


def test_text_in_a_numeric_column_names_row_and_column(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i * 2}\n" for i in range(12)) + "13,abc\n"
    path = _write(tmp_path / "messwerte.csv", "Temperatur,Druck\n" + rows)

    error = _error(read_table, path, target="Temperatur")

    assert error.where == f"{path}:14"
    assert "column 'Druck': 'abc' is not a number" in error.message
    assert "list 'Druck' as categorical" in error.message


def test_a_dot_decimal_in_a_comma_file_gets_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "a;b\n1,5;x\n2,5;y\n3.5;x\n")

    error = _error(read_table, path)

    assert error.where == f"{path}:4"
    assert "'3.5' is not a number" in error.message and "decimal='.'" in error.message


def test_missing_values_name_rows_and_columns_and_impute_fills_them(tmp_path: Path) -> None:
    text = "a;b;Farbe;y\n1;2;rot;0\n;4;blau;1\n5;;;0\n7;8;rot;1\n9;10;rot;0\n"
    path = _write(tmp_path / "t.csv", text)

    error = _error(read_table, path)
    assert error.where == f"{path}:3"
    assert "2 rows with missing values: rows 3, 4" in error.message
    assert "'a' (1), 'b' (1), 'Farbe' (1)" in error.message
    assert "--impute mean" in error.message and "impute='mean'" in error.message

    data = read_table(path, impute="mean")
    assert data.x[1, 0] == pytest.approx((1 + 5 + 7 + 9) / 4)
    assert data.x[2, 1] == pytest.approx((2 + 4 + 8 + 10) / 4)
    assert data.feature_names[2:] == ["Farbe=blau", "Farbe=rot"]
    assert data.x[2, 2:].tolist() == [0.0, 1.0]  # the most frequent category


def test_categories_round_trip_and_give_identical_features(tmp_path: Path) -> None:
    train = _write(tmp_path / "train.csv", GERMAN + "23,5;1,1;blau;gut\n")
    data = read_table(train)
    stored = json.loads(json.dumps(data.encoding.to_dict()))

    encoding = TableEncoding.from_dict(stored)
    # Prediction rows: columns reordered, the target absent, an extra id column, dot decimals.
    predict = _write(
        tmp_path / "neu.csv",
        "id,Farbe,Druck,Temperatur\n7,blau,1.1,23.5\n8,grün,0.998,22\n9,rot,1.013,21.5\n",
    )

    assert encoding == data.encoding
    assert encoding.feature_names == [
        "Temperatur",
        "Druck",
        "Farbe=blau",
        "Farbe=grün",
        "Farbe=rot",
    ]
    np.testing.assert_array_equal(read_table_inputs(predict, encoding), data.x[[2, 1, 0]])


def test_unknown_category_at_prediction_names_row_and_column(tmp_path: Path) -> None:
    data = read_table(_write(tmp_path / "train.csv", GERMAN))
    predict = _write(tmp_path / "neu.csv", "Temperatur;Druck;Farbe\n20;1;rot\n21;1;gelb\n")

    error = _error(read_table_inputs, predict, data.encoding)

    assert error.where == f"{predict}:3"
    assert "column 'Farbe': 'gelb' is not a category the model was trained on" in error.message
    assert "(grün, rot)" in error.message


def test_missing_column_at_prediction_is_named(tmp_path: Path) -> None:
    data = read_table(_write(tmp_path / "train.csv", GERMAN))
    predict = _write(tmp_path / "neu.csv", "Temperatur;Farbe\n20;rot\n")

    error = _error(read_table_inputs, predict, data.encoding)

    assert "missing column 'Druck'" in error.message and error.where == str(predict)


def test_numeric_codes_listed_as_categorical_are_one_hot(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "Klasse,Stufe,y\n1,10,1.5\n2,2,2.5\n3,10,0.5\n")

    data = read_table(path, categorical=["Stufe"])

    assert data.feature_names == ["Klasse", "Stufe=2", "Stufe=10"]
    assert data.x[:, 1:].tolist() == [[0, 1], [1, 0], [0, 1]]


def test_too_many_categories_suggests_an_id_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_encoding, "MAX_CATEGORIES", 3)
    rows = "".join(f"K-{i},{i % 2}\n" for i in range(5))
    path = _write(tmp_path / "t.csv", "Kunde,y\n" + rows)

    error = _error(read_table, path)

    assert "column 'Kunde' has 5 distinct values" in error.message
    assert "probably an id" in error.message and "drop=['Kunde']" in error.message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"schema_version": 1, "impute": None, "columns": [], "extra": 1}, "unknown keys"),
        ({"schema_version": 9, "impute": None, "columns": []}, "schema_version 9"),
        (
            {
                "schema_version": 1,
                "impute": None,
                "columns": [{"name": "a", "kind": "text", "categories": [], "fill": None}],
            },
            "unknown kind 'text'",
        ),
    ],
)
def test_from_dict_refuses_what_it_does_not_know(data: dict, expected: str) -> None:
    assert expected in str(_error(TableEncoding.from_dict, data))


# --- target and task ------------------------------------------------------------------


def test_whole_numbers_with_few_values_are_classes_sorted_by_value(tmp_path: Path) -> None:
    rows = "".join(f"{i},{[2, 10, 1][i % 3]}\n" for i in range(30))
    path = _write(tmp_path / "t.csv", "x,Stufe\n" + rows)

    data = read_table(path)

    assert data.task == "classification"
    assert data.classes == ["1", "2", "10"]
    assert data.y[:3].tolist() == [1, 2, 0]
    assert data.y.dtype == np.int64
    assert "task: classification" in data.notes[-1]


def test_many_or_fractional_values_are_regression_unless_told(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i * 0.5}\n" for i in range(10))
    path = _write(tmp_path / "t.csv", "x,y\n" + rows)

    data = read_table(path)
    assert data.task == "regression" and data.classes == []
    assert data.y.dtype == np.float32 and data.y[3] == 1.5

    assert read_table(path, target="x", task="regression").task == "regression"
    assert read_table(path, target="x").task == "regression"  # 10 values in 10 rows
    assert read_table(path, target="x", task="classification").classes[:3] == ["0", "1", "2"]


def test_missing_target_values_name_the_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "x,y\n1,a\n2,\n3,b\n4,\n")

    error = _error(read_table, path)

    assert error.where == f"{path}:3"
    assert "the target 'y' is missing in 2 rows 3, 5" in error.message


def test_text_in_a_regression_target_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "x,y\n1,1.5\n2,viel\n")

    error = _error(read_table, path, task="regression")

    assert error.where == f"{path}:3" and "'viel', which is not a number" in error.message
