"""Reading tables: CSV dialects, Parquet, choosing target and columns, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lernwerk.data.tables import cells as _cells
from lernwerk.data.tables import reader as tables
from lernwerk.data.tables.reader import read_table, read_table_file, read_table_inputs
from lernwerk.errors import DataError, NotFound, SpecError

# A German Excel export ("CSV UTF-8"): BOM, ";" between cells, decimal commas, umlauts.
GERMAN = "\ufeffTemperatur;Druck;Farbe;Qualität\n21,5;1,013;rot;gut\n22;0,998;grün;schlecht\n"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _error(call, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- reading files --------------------------------------------------------------------


def test_german_excel_export_reads_decimal_commas_bom_and_umlauts(tmp_path: Path) -> None:
    frame = read_table_file(_write(tmp_path / "messwerte.csv", GERMAN))

    assert list(frame.columns) == ["Temperatur", "Druck", "Farbe", "Qualität"]
    assert frame["Temperatur"].tolist() == [21.5, 22.0]
    assert frame["Druck"].tolist() == [1.013, 0.998]
    assert frame["Farbe"].tolist() == ["rot", "grün"]
    assert frame.index.tolist() == [2, 3]  # file lines, the header being line 1
    assert frame.attrs["delimiter"] == ";" and frame.attrs["decimal"] == ","


def test_windows_1252_export_is_read_with_a_note(tmp_path: Path) -> None:
    path = _write(tmp_path / "ansi.csv", GERMAN.lstrip("\ufeff"), encoding="cp1252")

    frame = read_table_file(path)

    assert list(frame.columns)[-1] == "Qualität"
    assert frame["Farbe"].tolist() == ["rot", "grün"]
    assert frame.attrs["encoding"] == "cp1252"
    assert any("not UTF-8" in note for note in frame.attrs["notes"])


def test_utf16_export_and_a_sep_line_are_understood(tmp_path: Path) -> None:
    # Excel's "Unicode text" export: UTF-16 with BOM, tabs between cells.
    utf16 = _write(tmp_path / "unicode.txt", "Größe\tWert\n1,5\tä\n", encoding="utf-16")
    assert read_table_file(utf16).to_dict("list") == {"Größe": [1.5], "Wert": ["ä"]}
    # A first line "sep=;" names the delimiter and is not the header.
    directive = _write(tmp_path / "sep.csv", "sep=;\na;b\n1,5;x\n")
    frame = read_table_file(directive)
    assert frame.to_dict("list") == {"a": [1.5], "b": ["x"]} and frame.index.tolist() == [3]


def test_a_wrong_explicit_encoding_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "a,b\n1,ü\n", encoding="cp1252")

    assert "is not valid utf-8 text" in str(_error(read_table_file, path, encoding="utf-8"))


def test_large_files_are_parsed_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "_CHUNK_ROWS", 2)
    path = _write(tmp_path / "t.csv", "a,b\n1,x\n2,y\n3,z\n\n4,5\n5,6\n")

    frame = read_table_file(path)

    assert frame.index.tolist() == [2, 3, 4, 6, 7]
    assert frame["a"].dtype == np.float64 and frame["a"].tolist() == [1, 2, 3, 4, 5]
    assert frame["b"].tolist() == ["x", "y", "z", 5.0, 6.0]  # text and numbers, kept apart


@pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = "\n".join(delimiter.join(row) for row in [["a", "b", "c"], ["1.5", "2", "x"]])
    frame = read_table_file(_write(tmp_path / "t.csv", text + "\n"))

    assert list(frame.columns) == ["a", "b", "c"]
    assert frame.iloc[0].tolist() == [1.5, 2.0, "x"]


def test_comma_in_a_semicolon_header_does_not_fool_the_sniffer(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "Druck (bar, abs);Temp\n1,013;21,5\n2,5;20\n")

    frame = read_table_file(path)

    assert frame.to_dict("list") == {"Druck (bar, abs)": [1.013, 2.5], "Temp": [21.5, 20.0]}


def test_row_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    text = 'id,note,value\n1,"two\nlines",1.5\n\n2,plain,2.5\n3,x,abc\n'
    path = _write(tmp_path / "t.csv", text)

    assert read_table_file(path).index.tolist() == [2, 5, 6]
    error = _error(read_table, path, target="id", drop=["note"])
    assert error.where == f"{path}:6"


def test_missing_markers_and_trailing_empty_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "a;b;\n1;#NV;\nNA;2;\n")

    frame = read_table_file(path)

    assert list(frame.columns) == ["a", "b"]
    assert frame.isna().to_numpy().tolist() == [[False, True], [True, False]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is empty"),
        ("\n\n  \n", "is empty"),
        ("1;2;3\n4;5;6\n", "holds numbers, not column names"),
        ("a,b,a\n1,2,3\n", "'a' in columns 1, 3"),
        ("a,,c\n1,2,3\n", "column 2 has no name"),
        ("a,b\n1,2,3\n", "the row has 3 values but the header names 2 columns"),
        ("a,b\n\n", "has a header but no data rows"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path: Path, text: str, expected: str) -> None:
    error = _error(read_table_file, _write(tmp_path / "bad.csv", text))

    assert expected in str(error)
    assert str(tmp_path / "bad.csv") in str(error)


def test_missing_folder_workbook_and_unknown_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_table_file(tmp_path / "nope.csv")
    assert "folder" in str(_error(read_table_file, tmp_path))
    assert "save it as CSV" in str(_error(read_table_file, _write(tmp_path / "x.xlsx", "PK")))
    assert "unsupported file type '.json'" in str(
        _error(read_table_file, _write(tmp_path / "x.json", "{}"))
    )


def test_size_and_column_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "t.csv", "a,b,c\n1,2,3\n")
    monkeypatch.setattr(_cells, "MAX_TABLE_COLUMNS", 2)
    assert "more than 2 are refused" in str(_error(read_table_file, path))
    monkeypatch.setattr(tables, "MAX_TABLE_BYTES", 4)
    assert "are refused; sample or split it" in str(_error(read_table_file, path))


def test_bad_options_are_spec_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "a,b\n1,2\n")
    with pytest.raises(SpecError, match="decimal must be"):
        read_table_file(path, decimal="x")
    with pytest.raises(SpecError, match="cannot both be ','"):
        read_table_file(path, delimiter=",", decimal=",")
    with pytest.raises(SpecError, match="unknown text encoding"):
        read_table_file(path, encoding="klingon")
    with pytest.raises(SpecError, match="impute must be"):
        read_table(path, impute="average")
    with pytest.raises(SpecError, match="task must be"):
        read_table(path, task="ranking")


def test_parquet_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Temperatur": [21.5, 22.0, 23.5, 20.0],
            "Anzahl": pd.array([1, None, 3, 4], dtype="Int64"),
            "Farbe": pd.Categorical(["rot", "grün", "rot", "blau"]),
            "Qualität": ["gut", "schlecht", "gut", "gut"],
        }
    )
    path = tmp_path / "messwerte.parquet"
    frame.to_parquet(path)

    data = read_table(path, impute="median")

    assert data.feature_names == ["Temperatur", "Anzahl", "Farbe=blau", "Farbe=grün", "Farbe=rot"]
    assert data.x[:, 0].tolist() == [21.5, 22.0, 23.5, 20.0]
    assert data.x[:, 1].tolist() == [1.0, 3.0, 3.0, 4.0]  # the gap holds the median
    assert data.classes == ["gut", "schlecht"] and data.y.tolist() == [0, 1, 0, 0]
    np.testing.assert_array_equal(read_table_inputs(path, data.encoding), data.x)


def test_unreadable_parquet_is_a_data_error(tmp_path: Path) -> None:
    error = _error(read_table_file, _write(tmp_path / "t.parquet", "not parquet"))
    assert "is not a readable Parquet file" in str(error)


# --- target and dropped columns ---------------------------------------------------------


def test_target_defaults_to_the_last_column_and_an_unknown_one_lists_columns(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "messwerte.csv", GERMAN)

    data = read_table(path, drop=["Farbe"])
    assert data.target == "Qualität"
    assert "decimals with a comma" in data.notes[0] and "task: classification" in data.notes[1]
    error = _error(read_table, path, target="Qualitat")
    assert "no column 'Qualitat'" in error.message
    assert "Temperatur, Druck, Farbe, Qualität" in error.message
    assert "did you mean 'Qualität'?" in error.message


def test_drop_removes_columns_and_checks_names(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "id,Datum,x,y\n1,2024-01-01,0.5,a\n2,2024-01-02,1.5,b\n")

    data = read_table(path, drop=["id", "Datum"])

    assert data.feature_names == ["x"]
    assert "drop: no column 'Dat'" in str(_error(read_table, path, drop=["Dat"]))
    with pytest.raises(SpecError, match="is the target"):
        read_table(path, drop=["y"])
