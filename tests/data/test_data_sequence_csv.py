"""Sequences from CSV: wide and long layouts, task inference, dialects, named errors."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from lernwerk.data.sequences.csv_reader import read_sequence_csv
from lernwerk.data.sequences.series import to_array
from lernwerk.errors import DataError


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def test_wide_csv_shorter_rows_and_natural_class_order(tmp_path):
    text = "label,t1,t2,t3,\nc10,1,2,3,\nc2,4,5,\nc10,7,8,9\n"  # trailing delimiters
    data = read_sequence_csv(_write(tmp_path, "w.csv", text), "wide")
    assert data.task == "classification" and data.classes == ["c2", "c10"]
    np.testing.assert_array_equal(data.lengths, [3, 2, 3])
    assert data.series_ids == ["w.csv:2", "w.csv:3", "w.csv:4"]
    gap = read_sequence_csv(_write(tmp_path, "g.csv", "label,t1,t2,t3\na,7,,9\n"), "wide")
    assert np.isnan(gap.series[0][0, 1]) and gap.lengths.tolist() == [3]
    x, lengths = to_array(data, "pad")
    np.testing.assert_array_equal(x[1, 0], [4, 5, 5])  # padded by repeating the last value
    np.testing.assert_array_equal(lengths, [3, 2, 3])


def test_wide_csv_task_inference_and_override(tmp_path):
    integers = _write(tmp_path, "i.csv", "y,a,b\n1,0,1\n2,1,0\n1,1,1\n")
    assert read_sequence_csv(integers, "wide", target="y").task == "classification"
    assert read_sequence_csv(integers, "wide", "y", task="regression").task == "regression"
    floats = read_sequence_csv(_write(tmp_path, "f.csv", "target,a\n0.5,1\n2.25,2\n"), "wide")
    assert floats.task == "regression"
    np.testing.assert_allclose(floats.labels, [0.5, 2.25])
    words = _write(tmp_path, "w.csv", "label,a\nup,1\n")
    with pytest.raises(DataError, match="Expected a numeric target") as err:
        read_sequence_csv(words, "wide", task="regression")
    assert err.value.where == "w.csv:2"
    with_nan = _write(tmp_path, "n.csv", "target,a\n0.5,1\nnan,2\n")
    assert read_sequence_csv(with_nan, "wide").task == "classification"  # nan is no number
    with pytest.raises(DataError, match="Expected a numeric target") as err:
        read_sequence_csv(with_nan, "wide", task="regression")
    assert err.value.where == "n.csv:3"


def test_csv_with_bom_and_crlf(tmp_path):
    text = "label,t1,t2\r\nx,1,2\r\ny,3,4\r\n"
    data = read_sequence_csv(_write(tmp_path, "bom.csv", text, "utf-8-sig"), "wide")
    assert data.meta["label_column"] == "label" and data.labels == ["x", "y"]
    np.testing.assert_array_equal(to_array(data)[0][:, 0], [[1, 2], [3, 4]])


def test_csv_text_in_numeric_cell_names_line_and_column(tmp_path):
    path = _write(tmp_path, "w.csv", "class,t1,t2\n\na,1,2\nb,3,oops\n")
    with pytest.raises(DataError) as err:
        read_sequence_csv(path, "wide")
    assert err.value.where == "w.csv:4"  # the blank line 2 still counts
    assert "column 't2': Expected a number; received 'oops'" in err.value.message


def test_csv_missing_label_column_lists_the_columns(tmp_path):
    path = _write(tmp_path, "w.csv", "kind,t1\na,1\n")
    with pytest.raises(DataError, match=r"received columns \['kind', 't1'\]; name it with target"):
        read_sequence_csv(path, "wide")
    with pytest.raises(DataError, match="named 'y'"):
        read_sequence_csv(path, "wide", target="y")


def test_long_csv_semicolon_decimal_comma_sorted_by_time(tmp_path):
    text = (
        "series_id;time;x;y;label\n"
        "b;2;1,5;-2,5;up\n"
        "a;1;0,5;1;down\n"
        "b;1;0,25;2;up\n"
        "a;0;0;0;down\n"
        "b;0;0;0;up\n"
    )
    data = read_sequence_csv(_write(tmp_path, "long.csv", text), "long")
    assert data.meta["delimiter"] == ";" and data.meta["decimal"] == ","
    assert data.series_ids == ["b", "a"]  # order of first appearance
    assert data.channel_names == ["x", "y"] and data.labels == ["up", "down"]
    np.testing.assert_array_equal(data.series[0], [[0, 0.25, 1.5], [0, 2, -2.5]])
    np.testing.assert_array_equal(data.series[1], [[0, 0.5], [0, 1]])
    assert data.classes == ["down", "up"]


def test_long_csv_label_must_be_constant_within_a_series(tmp_path):
    text = "series_id,t,value,label\ns1,0,1,a\ns1,1,2,a\ns2,0,1,b\ns1,2,3,b\n"
    with pytest.raises(DataError) as err:
        read_sequence_csv(_write(tmp_path, "long.csv", text), "long")
    assert err.value.where == "long.csv:5"
    assert "series 's1': Expected one label per series; received 'a' (line 2)" in str(err.value)


def test_long_csv_duplicate_time_and_missing_id(tmp_path):
    duplicate = "id,step,v,class\nq,0,1,a\nq,0,2,a\n"
    with pytest.raises(DataError, match="series 'q': Expected one row per time"):
        read_sequence_csv(_write(tmp_path, "d.csv", duplicate), "long")
    with pytest.raises(DataError, match="Expected a series id column"):
        read_sequence_csv(_write(tmp_path, "n.csv", "v,label\n1,a\n"), "long")


def test_long_csv_dates_and_chosen_channels(tmp_path):
    text = "series,timestamp,v,note,label\nk,2024-01-02,2,x,a\nk,2024-01-01,1,y,a\n"
    data = read_sequence_csv(_write(tmp_path, "t.csv", text), "long", channels=["v"])
    np.testing.assert_array_equal(data.series[0], [[1, 2]])
    with pytest.raises(DataError, match="Expected a number or an ISO date/time") as err:
        read_sequence_csv(_write(tmp_path, "u.csv", text.replace("2024-01-01", "soon")), "long")
    assert err.value.where == "u.csv:3"
