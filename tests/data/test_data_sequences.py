"""Sequence files: .ts (UCR/UEA), wide and long CSV, to_array, and the vendored UCR sets."""

import gzip
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from lernwerk.data.sequences import (
    UCR_SETS,
    SequenceSet,
    load_ucr,
    read_sequence_csv,
    read_ts,
    read_ts_pair,
    to_array,
)
from lernwerk.errors import DataError, NotFound, SpecError

HEADER = """# a comment
@problemName Tiny
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 3
@classLabel true b a
@data
"""  # the first series is on line 10

MULTIVARIATE = """@problemName Motion
@univariate false
@dimensions 2
@equalLength false
@classLabel true walk run
@data
1,2,3,4:10,20,30,40:walk
5,6,?,?:50,60,?,?:run
7,?,9:70,80,90:walk
"""


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def _sequences(*lengths: int) -> SequenceSet:
    series = [np.arange(t, dtype=np.float32).reshape(1, t) + i for i, t in enumerate(lengths)]
    return SequenceSet(
        series=series,
        labels=["a"] * len(lengths),
        task="classification",
        classes=["a"],
        channel_names=["value"],
        series_ids=[f"s{i}" for i in range(len(lengths))],
    )


# ---------------------------------------------------------------- .ts


def test_read_ts_univariate_keeps_declared_class_order(tmp_path):
    path = _write(tmp_path, "tiny.ts", HEADER + "1,2,3:a\n4,5,6.5:b\n\n# trailing comment\n")
    data = read_ts(path)
    assert data.task == "classification"
    assert data.classes == ["b", "a"]  # the @classLabel order, not sorted
    assert data.labels == ["a", "b"]
    assert data.channel_names == ["dim_0"]
    assert data.series_ids == ["tiny.ts:10", "tiny.ts:11"]
    assert data.meta["problem_name"] == "Tiny" and data.meta["equal_length"]
    assert data.meta["comments"] == "a comment"
    x, lengths = to_array(data)
    assert x.dtype == np.float32 and x.shape == (2, 1, 3)  # (N, C, T)
    np.testing.assert_array_equal(x[1, 0], [4, 5, 6.5])
    np.testing.assert_array_equal(lengths, [3, 3])


def test_read_ts_multivariate_unequal_trims_trailing_missing(tmp_path):
    data = read_ts(_write(tmp_path, "motion.ts", MULTIVARIATE))
    assert data.num_channels == 2 and len(data) == 3
    np.testing.assert_array_equal(data.lengths, [4, 2, 3])
    assert not data.meta["equal_length"]
    np.testing.assert_array_equal(data.series[1], [[5, 6], [50, 60]])
    assert np.isnan(data.series[2][0, 1])  # a gap inside a series stays NaN ...
    with pytest.raises(DataError) as err:  # ... and to_array refuses it
        to_array(data, "pad")
    assert err.value.where == "series 2 (motion.ts:9)"
    assert "'dim_0' at step 1 (0-based)" in str(err.value)


def test_read_ts_regression_and_unlabelled(tmp_path):
    text = "@univariate true\n@targetLabel true\n@data\n1,2:0.5\n3,4:-1e2\n"
    data = read_ts(_write(tmp_path, "reg.ts", text))
    assert data.task == "regression" and data.classes == []
    np.testing.assert_allclose(data.labels, [0.5, -100.0])
    assert data.labels.dtype == np.float32
    with pytest.raises(DataError, match="finite number as the target") as err:
        read_ts(_write(tmp_path, "nan.ts", text + "5,6:nan\n"))
    assert err.value.where == "nan.ts:6"
    unlabelled = read_ts(_write(tmp_path, "new.ts", "@classLabel false\n@data\n1,2:3,4\n"))
    assert unlabelled.labels is None and unlabelled.num_channels == 2


def test_read_ts_gzip_and_bom_read_the_same(tmp_path):
    text = HEADER + "1,2,3:a\n4,5,6:b\n"
    plain = read_ts(_write(tmp_path, "p.ts", text))
    packed = read_ts(_write(tmp_path, "p.ts.gz", text))
    with_bom = read_ts(_write(tmp_path, "bom.ts", text, encoding="utf-8-sig"))
    for other in (packed, with_bom):
        np.testing.assert_array_equal(to_array(other)[0], to_array(plain)[0])
        assert other.labels == plain.labels
    assert packed.series_ids[0] == "p.ts.gz:10"


@pytest.mark.parametrize(
    ("data_lines", "line", "says"),
    [
        ("1,2,3:a\n1,2,3:4,5,6:a\n", 11, "Expected 2 ':'-separated parts"),
        ("1,2,3:a\n1,x,3:a\n", 11, "channel 0, value 2: Expected a number or '?'; received 'x'"),
        ("1,2,3:a\n1,,3:a\n", 11, "received an empty value"),
        ("1,2,3:a\n1,2,3:c\n", 11, "among the @classLabel values b a; received 'c'"),
        ("1,2,3:a\n1,2:a\n", 11, "Expected 3 values (@seriesLength 3); received 2"),
        ("(0,1),(1,2):a\n", 10, "timestamped"),
        ("?,?,?:a\n", 10, "Expected at least one value"),
    ],
)
def test_read_ts_malformed_line_is_named_by_number(tmp_path, data_lines, line, says):
    with pytest.raises(DataError) as err:
        read_ts(_write(tmp_path, "bad.ts", HEADER + data_lines))
    assert err.value.where == f"bad.ts:{line}"
    assert says in err.value.message
    assert str(err.value).startswith(f"bad.ts:{line}: ")


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("@classLabel true a\n1,2:a\n", "bad.ts:2", "add the '@data' line"),
        ("@classLabel true a\n", "bad.ts", "Expected a '@data' line"),
        ("@classLabel true a\n@data\n", "bad.ts:2", "Expected series after '@data'"),
        ("@classLabel true\n@data\n1:a\n", "bad.ts:1", "Expected class names"),
        ("@timeStamps true\n@data\n", "bad.ts:1", "'@timeStamps true'"),
        ("@equalLength maybe\n@data\n", "bad.ts:1", "'@equalLength true' or"),
        ("@dimensions 2\n@classLabel true a\n@data\n1:a\n", "bad.ts:4", "(2 channel(s) and"),
    ],
)
def test_read_ts_malformed_header(tmp_path, text, where, says):
    with pytest.raises(DataError) as err:
        read_ts(_write(tmp_path, "bad.ts", text))
    assert err.value.where == where and says in err.value.message


def test_read_ts_missing_file_and_broken_gzip(tmp_path):
    with pytest.raises(NotFound):
        read_ts(tmp_path / "nothing.ts")
    (tmp_path / "cut.ts.gz").write_bytes(gzip.compress(b"@data\n1:a\n")[:12])
    with pytest.raises(DataError, match="gzip"):
        read_ts(tmp_path / "cut.ts.gz")


def test_read_ts_pair_finds_the_test_file(tmp_path):
    train_path = _write(tmp_path, "Tiny_TRAIN.ts", HEADER + "1,2,3:a\n")
    train, test = read_ts_pair(train_path)
    assert test is None
    _write(tmp_path, "Tiny_TEST.ts.gz", HEADER.replace("b a", "a b") + "4,5,6:b\n")
    train, test = read_ts_pair(train_path)
    assert test is not None and test.labels == ["b"]
    assert test.classes == train.classes == ["b", "a"]  # the training order wins
    assert read_ts_pair(_write(tmp_path, "other.ts", HEADER + "1,2,3:a\n"))[1] is None


def test_read_ts_pair_refuses_mismatched_test(tmp_path):
    train_path = _write(tmp_path, "M_TRAIN.ts", HEADER + "1,2,3:a\n")
    _write(tmp_path, "M_TEST.ts", MULTIVARIATE)
    with pytest.raises(DataError, match="Expected 1 channel") as err:
        read_ts_pair(train_path)
    assert err.value.where == "M_TEST.ts"


# ---------------------------------------------------------------- CSV


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


# ---------------------------------------------------------------- to_array


def test_to_array_error_names_the_first_differing_series():
    with pytest.raises(DataError) as err:
        to_array(_sequences(4, 4, 3, 2))
    assert err.value.where == "series 2 (s2)"
    assert "Expected every series to have 4 steps like series 0 (s0); received 3" in str(err.value)
    assert "--length pad or --length resample" in str(err.value)
    x, lengths = to_array(_sequences(3, 3))
    assert x.shape == (2, 1, 3) and lengths.tolist() == [3, 3]


def test_to_array_pad_repeats_the_last_value():
    x, lengths = to_array(_sequences(2, 4), "pad")
    assert x.shape == (2, 1, 4) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, 0], [0, 1, 1, 1])
    np.testing.assert_array_equal(x[1, 0], [1, 2, 3, 4])
    assert lengths.dtype == np.int64 and lengths.tolist() == [2, 4]
    assert to_array(_sequences(2, 4), "pad", length=6)[0].shape == (2, 1, 6)
    with pytest.raises(DataError, match="received 4; use a larger length") as err:
        to_array(_sequences(2, 4), "pad", length=3)
    assert err.value.where == "series 1 (s1)"


def test_to_array_resample_matches_numpy_interp():
    data = _sequences(5, 9, 1)
    x, lengths = to_array(data, "resample")  # default: the longest, 9
    assert x.shape == (3, 1, 9) and lengths.tolist() == [9, 9, 9]
    for row, s in zip(x, data.series, strict=True):
        t = s.shape[1]
        expected = np.interp(np.linspace(0, t - 1, 9), np.arange(t), s[0])
        np.testing.assert_allclose(row[0], expected, rtol=0, atol=1e-6)
    shrunk, _ = to_array(data, "resample", length=3)
    np.testing.assert_allclose(shrunk[1, 0], [1, 5, 9])


def test_to_array_refuses_bad_arguments_and_infinity():
    with pytest.raises(SpecError):
        to_array(_sequences(2), "truncate")
    with pytest.raises(SpecError):
        to_array(_sequences(2), "pad", length=0)
    data = _sequences(3)
    data.series[0][0, 2] = np.inf
    with pytest.raises(DataError, match="received inf in channel 'value' at step 2"):
        to_array(data)


# ---------------------------------------------------------------- vendored UCR sets


@pytest.mark.parametrize("name", list(UCR_SETS))
def test_every_vendored_set_loads_with_its_known_shape(name):
    info = UCR_SETS[name]
    train, test = load_ucr(name)
    assert (len(train), len(test)) == (info["train_size"], info["test_size"])
    assert train.num_channels == test.num_channels == info["channels"]
    assert train.classes == test.classes == info["classes"]
    assert set(train.labels) == set(info["classes"])
    lengths = np.concatenate([train.lengths, test.lengths])
    assert (int(lengths.min()), int(lengths.max())) == info["lengths"]
    assert train.meta["problem_name"] == name and train.meta["ucr"] == name
    x, _ = to_array(train, "pad", length=info["lengths"][1])
    assert x.shape == (info["train_size"], info["channels"], info["lengths"][1])  # (N, C, T)
    assert np.isfinite(x).all()
    assert info["citation"] and info["description"]


def test_vendored_files_and_readme_ship_as_package_data():
    folder = resources.files("lernwerk.data").joinpath("ucr")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for name in UCR_SETS:
        assert name in readme
        for split in ("TRAIN", "TEST"):
            assert folder.joinpath(f"{name}_{split}.ts.gz").is_file()
    assert "BSD 3-Clause" in readme and "arXiv:1811.00075" in readme


def test_load_ucr_unknown_name_and_case():
    assert load_ucr("gunpoint")[0].meta["ucr"] == "GunPoint"
    with pytest.raises(NotFound, match="GunPoint, ItalyPowerDemand"):
        load_ucr("Coffee")
