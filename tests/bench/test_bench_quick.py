"""The benchmark's quick mode runs end to end and writes a report with every peer."""

from __future__ import annotations

import json

from bench import run as bench_run
from bench import tabular


def test_quick_mode_is_5000_rows_only():
    assert tabular.QUICK_SIZES == ({"rows": 5000, "features": 20},)
    assert {s["rows"] for s in tabular.FULL_SIZES} == {50_000, 500_000}


def test_quick_suite_writes_report_with_every_peer(tmp_path):
    out = tmp_path / "RESULTS.md"
    (tmp_path / "RESULTS.md").write_text("# old\n\n## Log\n\n- kept by hand\n")
    # quick mode, on 2 000 rows instead of 5 000 to stay well under 30 s on a busy 2-core box
    record = bench_run.run(
        quick=True, out=out, sizes=({"rows": 2000, "features": 20},), log=lambda _: None
    )

    text = out.read_text()
    assert "| peer | settings | test accuracy | fit seconds | × lernwerk default | notes |" in text
    assert "`tabular:rows=2000,features=20`" in text
    assert "quick mode" in text
    for peer in tabular.PEERS:
        assert f"| {peer.name} |" in text, peer.name
    assert "## How to reproduce" in text
    assert text.rstrip().endswith("## Log\n\n- kept by hand")  # the hand-written log survives
    assert "**Machine:**" in text

    (ds,) = record["datasets"]
    by_peer = {r["peer"]: r for r in ds["results"]}
    assert set(by_peer) == {p.name for p in tabular.PEERS}
    for name, r in by_peer.items():
        if r["status"] == "ok":
            assert 0.5 < r["accuracy"] <= 1.0, name
            assert r["seconds"] > 0, name
        else:
            assert r["status"] in ("not installed", "skipped"), (name, r["note"])
    assert by_peer[tabular.BASELINE]["status"] == "ok"
    assert by_peer[tabular.BASELINE]["ratio"] == 1.0

    (json_file,) = (tmp_path / "results").glob("tabular-*.json")
    runs = json.loads(json_file.read_text())
    assert runs[-1]["datasets"][0]["dataset"] == "tabular:rows=2000,features=20"
