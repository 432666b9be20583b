"""The ucr suite's ROCKET part: fitted on a shipped set's official split, its table and
targets against the published figure (or 'unknown' where none is verified)."""

from __future__ import annotations

from bench import ucr


def test_rocket_alone_on_a_shipped_set_renders_its_table_and_targets() -> None:
    record = ucr.run(
        False, log=lambda _: None, networks=False, rocket_sets=("basicmotions",), seeds=(0,)
    )
    assert record["results"] == []
    (row,) = record["rocket"]
    assert row["dataset"] == "basicmotions" and row["shape"] == [6, 100]
    assert (row["train"], row["test"]) == (40, 40)
    (fit,) = row["runs"]
    assert fit["status"] == "ok" and fit["accuracy"] >= 0.9 and fit["seconds"] > 0
    assert row["workspace"]["status"] == "ok"
    assert row["workspace"]["extra"]["splits"]["train"] == 32  # 20 % held out to validate
    record.update(started_at="2026-12-07T00:00:00+00:00", machine={}, command="test")
    text = ucr.section(record)
    assert "### The ROCKET-style baseline on every shipped set" in text
    assert "| basicmotions | 6 × 100 |" in text and "| unknown |" in text
    assert "ROCKET on basicmotions: no verified published figure" in text
    assert "basicmotions" in ucr.console(record)
