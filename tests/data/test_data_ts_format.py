"""UCR/UEA `.ts` files: header tags, uni- and multivariate series, gzip, malformed lines."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from lernwerk.data.sequences.series import to_array
from lernwerk.data.sequences.ts_format import read_ts, read_ts_pair
from lernwerk.errors import DataError, NotFound

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
