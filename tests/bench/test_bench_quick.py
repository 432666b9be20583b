"""Every suite runs once in quick mode on tiny sizes and writes its section and its JSON.

No timing is asserted: the machine may be busy. The peers that need the `bench` extra are
left out here (TensorFlow's import alone takes seconds); a missing one must say so.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import asdict
from pathlib import Path

import pytest

from bench import SUITES, loops, report, tabular
from bench import run as bench_run
from bench.common import Result, measure_rounds, paired_ratio, percentile, rounds_note
from lernwerk.cli import main

TINY = {
    "tabular": {
        "sizes": ({"rows": 1000, "features": 20, "rounds": 2},),
        # no Keras (its import takes seconds); no HistGradientBoosting (its OpenMP threads
        # take seconds even on 600 rows when the machine is busy)
        "peers": tuple(
            p for p in tabular.PEERS if p.requires != "keras" and p.name != "HistGradientBoosting"
        ),
    },
    "digits": {"epochs": 1, "keras": False, "levers": (loops.Levers(fused_adam=True),)},
    "images": {
        "runs": (
            ("lernwerk smiley-cnn on smileys", "smileys:per_class=5", "smiley-cnn", 1),
            ("lernwerk smiley-cnn on solder", "solder:per_class=5", "smiley-cnn", 1),
        ),
        "lever_epochs": 1,
        "peak_seconds": 0.1,
        "levers": (loops.Levers(), loops.Levers(channels_last=True, bf16=True)),
    },
    "ucr": {"pairs": (("italypowerdemand", "fcn1d"),), "epochs": 1},
    "lecture": {"dataset": "xor:samples=200", "models": (("mlp", 1),)},
    "transfer": {
        "photos": "photos:per_class=5,test_per_class=2,size=32",
        "groups": ("photos",),
        "from_scratch": ("lenet",),
        "anomaly": "solder:per_class=5",
        "anomaly_models": ("patchcore",),
        "speed": (("photos:per_class=5,test_per_class=2,size=32", 32),),
        "peak_seconds": 0.1,
    },
    "predict": {
        "per_class": 5,
        "calls": 10,
        "warmup": 2,
        "batch_seconds": 0.1,
        "under_load": False,
    },
    "export": {"calls": 5, "warmup": 1, "models": (("mlp", "xor:samples=60", "mlp"),)},
    "inspect": {"per_class": 5, "images": 40, "rounds": 1},
    "explain": {"cases": (("smileys:per_class=5", "smiley-cnn", 1, 0.2),), "rounds": 1},
    "workshop": {"participants": 2, "seconds": 60.0, "samples": 4, "predictions": 2, "epochs": 1},
    "sweep": {"rows": 300, "trials": 2, "workers": 1, "epochs": 2},
}


def test_quick_mode_sizes():
    assert tabular.QUICK_SIZES == ({"rows": 5000, "features": 20, "rounds": 2},)
    assert {s["rows"] for s in tabular.FULL_SIZES} == {50_000, 500_000}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("bench")
    out = folder / "RESULTS.md"
    out.write_text(
        "# old\n\n<!-- suite:other -->\n## kept section\n\n<!-- /suite:other -->\n\n"
        "## Log\n\n- kept by hand\n"
    )
    records = bench_run.run("all", quick=True, out=out, options=TINY, log=lambda _: None)
    return out, records


def test_every_suite_writes_its_section(quick_run):
    out, records = quick_run
    text = out.read_text()
    assert list(records) == list(SUITES)
    for suite in SUITES:
        assert text.count(f"<!-- suite:{suite} -->") == 1, suite
        assert text.count(f"<!-- /suite:{suite} -->") == 1, suite
    assert text.index("suite:tabular") < text.index("suite:digits") < text.index("suite:images")
    assert "**Machine (latest run):**" in text and "**quick mode**" in text
    assert "1-min load average at the start" in text
    assert "**Targets (issue 5):**" in text
    assert "## kept section" in text  # another suite's section survives
    assert text.rstrip().endswith("## Log\n\n- kept by hand")  # the hand-written log survives


def test_every_suite_appends_its_json(quick_run):
    out, records = quick_run
    for suite in SUITES:
        (path,) = (out.parent / "results").glob(f"{suite}-*.json")
        runs = json.loads(path.read_text())
        assert runs[-1]["suite"] == suite and runs[-1]["quick"] is True
        assert runs[-1]["machine"]["cpu"] and "torch" in runs[-1]["machine"]["versions"]
        assert runs[-1]["machine"]["load_average_1min"] is not None


def test_tabular_has_every_peer_and_ratios(quick_run):
    _, records = quick_run
    text = (quick_run[0]).read_text()
    assert (
        "| peer | settings | test accuracy | fit seconds | seconds to XGBoost's accuracy "
        "| × lernwerk default | notes |"
    ) in text
    (ds,) = records["tabular"]["datasets"]
    by_peer = {r["peer"]: r for r in ds["results"]}
    assert set(by_peer) == {p.name for p in TINY["tabular"]["peers"]}
    for name, r in by_peer.items():
        if r["status"] == "ok":
            assert 0.5 < r["accuracy"] <= 1.0, name
            assert r["extra"]["load_1min_before"] is not None, name
        else:
            assert r["status"] in ("not installed", "skipped"), (name, r["note"])
    assert by_peer[tabular.BASELINE]["ratio"] == 1.0
    # the networks record their test accuracy after every epoch; the last is the final one
    default = by_peer[tabular.BASELINE]["extra"]
    assert len(default["curve"]) == default["epochs"]
    assert default["curve"][-1][1] == pytest.approx(by_peer[tabular.BASELINE]["accuracy"])
    times = [t for t, _ in default["curve"]]
    assert times == sorted(times) and times[-1] <= by_peer[tabular.BASELINE]["seconds"]
    plain = by_peer["plain PyTorch loop"]["extra"]["curve"]
    assert len(plain) == tabular.LECTURE["epochs"]
    # the peers took turns; each row is its median round (the lower of two)
    assert ds["rounds"] == 2 and "the peers took turns 2 times" in text
    for name, r in by_peer.items():
        if r["status"] == "ok":
            rounds = r["extra"]["round_seconds"]
            assert len(rounds) == 2, name
            assert r["seconds"] == pytest.approx(sorted(rounds)[0], abs=1e-3), name
    assert "median of 2 interleaved rounds:" in text
    assert "the median of 2 interleaved rounds' ratios" in text
    if by_peer.get("XGBoost", {}).get("status") == "ok":
        xgb = by_peer["XGBoost"]
        assert xgb["extra"]["reach_seconds"] == xgb["seconds"]
        reach = default.get("reach_seconds")
        first = next((t for t, a in default["curve"] if a >= xgb["accuracy"]), None)
        assert reach == first


def test_rounds_interleave_and_keep_the_median_round():
    order: list[str] = []

    def peer(name: str, seconds: list[float]):
        it = iter(seconds)

        def fn():
            order.append(name)
            s = next(it)
            return s / 10, s, {"mark": s}

        return fn

    a, b = Result("a", ""), Result("b", "")
    measure_rounds([(a, peer("a", [3.0, 1.0, 2.0])), (b, peer("b", [2.0, 2.0, 1.0]))], 3)
    assert order == ["a", "b"] * 3
    assert (a.seconds, a.accuracy, a.extra["mark"]) == (2.0, 0.2, 2.0)
    assert a.extra["round_seconds"] == [3.0, 1.0, 2.0]
    ratio = paired_ratio(asdict(a), asdict(b))  # per round 1.5, 0.5, 2.0
    assert ratio == pytest.approx((1.5, 0.5, 2.0))
    assert rounds_note(a.extra) == "median of 3 interleaved rounds: 3.00, 1.00, 2.00 s"

    def broken():
        raise RuntimeError("no")

    c = Result("c", "")
    measure_rounds([(c, broken)], 2)
    assert c.status == "failed" and "no" in c.note and c.seconds is None
    assert paired_ratio(asdict(c), asdict(b)) is None


def test_reach_is_the_first_epoch_at_the_accuracy():
    curve = [(0.5, 0.90), (1.0, 0.95), (1.5, 0.97), (2.0, 0.96)]
    assert tabular.reach_seconds(curve, 0.95) == 1.0
    assert tabular.reach_seconds(curve, 0.97) == 1.5
    assert tabular.reach_seconds(curve, 0.98) is None


def test_digits_compares_the_same_network(quick_run):
    _, records = quick_run
    rows = {r["peer"]: r for r in records["digits"]["results"]}
    assert rows["lernwerk lenet"]["status"] == "ok"
    assert rows["plain PyTorch loop"]["status"] == "ok"
    assert (
        rows["plain PyTorch loop"]["extra"]["batch_size"]
        == rows["lernwerk lenet"]["extra"]["batch_size"]
    )
    assert rows["Keras (TensorFlow)"]["status"] == "skipped"  # left out here
    assert len(rows["lernwerk lenet"]["extra"]["round_seconds"]) == records["digits"]["rounds"]
    assert any(name.startswith("plain loop + ") for name in rows)


def test_lecture_lists_the_baselines_beside_the_network(quick_run):
    out, records = quick_run
    rows = records["lecture"]["rows"]
    baselines = 3 if importlib.util.find_spec("xgboost") else 2  # XGBoost when installed
    assert [r["features"] for r in rows] == ["features"] * baselines + ["network"]
    assert [r["model"] for r in rows][:2] == ["logistic-regression", "hist-gradient-boosting"]
    assert all(0 <= r["accuracy"] <= 1 and r["seconds"] > 0 for r in rows)
    assert "lecture's table: **reported**" in out.read_text()


def test_images_report_flops_against_the_peak(quick_run):
    _, records = quick_run
    rec = records["images"]
    assert rec["peaks"]["float32"]["gflops"] > 0
    solder = next(r for r in rec["results"] if r["peer"] == "lernwerk smiley-cnn on solder")
    assert solder["status"] == "ok"
    assert solder["extra"]["achieved_gflops"] > 0 and 0 < solder["extra"]["share_of_peak"]


def test_predict_times_the_api_and_says_what_it_could_not(quick_run):
    _, records = quick_run
    rows = {r["peer"]: r for r in records["predict"]["results"]}
    api = rows["Python API, one sample"]
    assert api["status"] == "ok" and api["extra"]["p50_ms"] <= api["extra"]["p99_ms"]
    assert rows["Python API, batch 256"]["extra"]["samples_per_second"] > 0
    http = rows["HTTP, one sample"]
    assert http["status"] == "ok" or "not available" in http["note"], http["note"]
    assert rows["HTTP, one sample, under load"]["status"] in ("skipped", "not available")


def test_a_missing_peer_says_so_and_the_rest_run():
    def never(data):
        raise AssertionError("a missing peer must not run")

    (logistic,) = (p for p in tabular.PEERS if p.name == "LogisticRegression")  # fast
    peers = (
        logistic,
        tabular.Peer("Imaginary", "—", never, requires="no_such_module_for_lernwerk"),
    )
    peers = (tabular.Peer(tabular.BASELINE, "stand-in", tabular.logistic_regression), *peers)
    (ds,) = tabular.run_suite(({"rows": 500, "features": 20},), peers=peers, log=lambda _: None)
    by_peer = {r["peer"]: r for r in ds["results"]}
    assert by_peer["Imaginary"]["status"] == "not installed"
    assert "no_such_module_for_lernwerk is not installed" in by_peer["Imaginary"]["note"]
    assert by_peer["LogisticRegression"]["status"] == "ok"
    assert "not installed" in tabular.markdown_table(ds)


def test_report_rewrites_only_the_suites_that_ran(tmp_path):
    out = tmp_path / "RESULTS.md"
    old = (
        "# x\n\n<!-- suite:digits -->\n## digits old\n\nOLD DIGITS\n<!-- /suite:digits -->\n\n"
        "<!-- suite:images -->\n## images old\n\nOLD IMAGES\n<!-- /suite:images -->\n\n## Log\n\n- a\n"
    )
    out.write_text(old)
    sections = report.existing_sections(old)
    assert set(sections) == {"digits", "images"}

    class Fake:
        TITLE = "digits: new"

        @staticmethod
        def section(record):
            return "NEW DIGITS"

    facts = {
        "cpu": "cpu",
        "cores": 2,
        "usable_cores": 2,
        "ram_gib": 1.0,
        "os": "os",
        "python": "3",
        "torch_threads": 1,
        "versions": {"torch": "2"},
        "load_average_1min": 0.5,
    }
    record = {
        "suite": "digits",
        "quick": False,
        "started_at": "now",
        "total_seconds": 1.0,
        "machine": facts,
        "command": "c",
    }
    report.write_report(out, [record], {"digits": Fake})
    text = out.read_text()
    assert "NEW DIGITS" in text and "OLD DIGITS" not in text
    assert "OLD IMAGES" in text and text.rstrip().endswith("## Log\n\n- a")


def test_percentile_interpolates_like_numpy():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 99) == pytest.approx(4.96)
    assert percentile([7.0], 99) == 7.0


def test_cli_refuses_an_unknown_suite(capsys):
    assert main(["bench", "--suite", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Invalid value for '--suite': 'nope' is not one of")
    assert "Value error" not in err and "\n" not in err
    assert main(["bench", "--help"]) == 0
    assert "--quick" in capsys.readouterr().out


def test_report_only_rewrites_from_the_json(quick_run, tmp_path):
    out, records = quick_run
    assert [r["suite"] for r in report.latest_records(out.parent / "results")] == list(SUITES)
    copy = tmp_path / "RESULTS.md"
    assert (
        bench_run.main(
            ["--report-only", "--out", str(copy), "--results-dir", str(out.parent / "results")]
        )
        == 0
    )
    text = copy.read_text()
    assert all(f"<!-- suite:{s} -->" in text for s in SUITES)
    assert "](#digits-lenet-on-88-digits)" in text


def test_inspect_measures_both_paths_on_the_same_files(quick_run):
    _, records = quick_run
    by_path = {r["peer"]: r for r in records["inspect"]["results"]}
    decode, inspect = by_path["decode only"], by_path["inspect (PyTorch)"]
    assert decode["status"] == inspect["status"] == "ok"
    assert decode["extra"]["images_per_second"] == pytest.approx(40 / decode["seconds"])
    assert inspect["ratio"] == pytest.approx(decode["seconds"] / inspect["seconds"])
    assert "inspect ≥ 50 % of the decode-only rate" in quick_run[0].read_text()
    onnx = by_path["inspect (onnxruntime)"]  # the --onnx route, timed on the same folder
    assert onnx["status"] == "ok", onnx["note"]
    assert onnx["ratio"] == pytest.approx(decode["seconds"] / onnx["seconds"])
    assert "decode-only rate (onnxruntime): **" in quick_run[0].read_text()


def test_explain_times_an_explanation_against_its_ceiling(quick_run):
    _, records = quick_run
    (r,) = records["explain"]["results"]
    assert r["status"] == "ok" and r["peer"] == "smiley-cnn (28×28)"
    assert r["ratio"] == pytest.approx(r["seconds"] / 0.2)
    assert r["extra"]["predict_seconds"] > 0
    assert "saliency for `smiley-cnn (28×28)` under 200 ms" in quick_run[0].read_text()


def test_workshop_load_tallies_every_request(quick_run):
    _, records = quick_run
    (r,) = records["workshop"]["results"]
    e = r["extra"]
    assert r["status"] == "ok" and e["participants"] == 2
    assert e["server_errors"] == 0 and e["lost_samples"] == 0
    assert e["trainings_finished"] == 2 and e["p99_ms"] > 0
    assert e["requests"] >= 2 * (1 + 1 + 1 + 4 + 1 + 2)  # join, page, dataset, samples, predict
    assert (
        "p99 of page and API requests other than training under 500 ms" in quick_run[0].read_text()
    )
