"""The one CSV reader: a spreadsheet's file is read the same at import and at prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lernwerk.data.csv_text import detect_dialect, parse_number, read_records
from lernwerk.data.inputs import read_inputs
from lernwerk.data.sequences.csv_reader import read_sequence_csv
from lernwerk.errors import DataError

# German Excel: "sep=;" first, Windows-1252 text (the ü), decimal commas
GERMAN = "sep=;\r\nKraft_1;Kraft_2;Kraft_3;Güte\r\n1,5;2,25;-3,0;ok\r\n\r\n4,0;5,5;6,75;nok\r\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "cp1252") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_german_excel_file_is_read_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, "kraft.csv", GERMAN)
    dialect = detect_dialect(path)
    assert (dialect.delimiter, dialect.decimal, dialect.encoding) == (";", ",", "cp1252")
    assert any("not UTF-8" in note for note in dialect.notes)
    records = list(read_records(path, dialect))
    assert records[0] == (2, ["Kraft_1", "Kraft_2", "Kraft_3", "Güte"])
    assert [line for line, _ in records] == [2, 3, 5]  # the blank line counts, "sep=" goes


def test_a_byte_order_mark_does_not_reach_the_first_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "a,b\n1,2\n", encoding="utf-8-sig")
    assert next(read_records(path, detect_dialect(path)))[1] == ["a", "b"]


def test_numbers_in_either_decimal_mark() -> None:
    assert parse_number("1,5", ",") == 1.5 and parse_number(" -2.5e1 ") == -25.0
    assert parse_number("abc") is None and parse_number("inf") is None


def test_series_that_import_also_predict(tmp_path: Path) -> None:
    labelled = write(tmp_path, "train.csv", GERMAN)
    imported = read_sequence_csv(labelled, "wide", target="Güte")
    assert imported.labels == ["ok", "nok"]
    rows = write(tmp_path, "new.csv", "sep=;\r\n1,5;2,25;-3,0\r\n4,0;5,5;6,75\r\n")
    x, labels = read_inputs([rows], kind="sequences", input_shape=(1, 3), feature_names=[])
    assert labels == [f"{rows}:2", f"{rows}:3"]
    np.testing.assert_allclose(x.numpy(), np.stack(imported.series))  # (2, 1, 3) each


def test_a_file_in_another_encoding_than_given_is_refused_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "a;b\n1;ü\n")
    dialect = detect_dialect(path, encoding="utf-8")
    with pytest.raises(DataError, match="not valid utf-8 text"):
        list(read_records(path, dialect))
