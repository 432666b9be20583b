"""`lernwerk train --task anomaly --model patchcore` and `lernwerk predict RUN photo --map`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lernwerk.cli import main
from lernwerk.data.synth.solder import draw_solder


def run_cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_prints_the_verdict_and_writes_the_map(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    args = ["-d", "solder:per_class=6", "--task", "anomaly", "--normal-class", "good"]
    code, out, err = run_cli(capsys, ws, "train", *args, "-m", "patchcore", "--json")
    assert code == 0, err
    run = json.loads(out)["run_id"]
    x, _ = draw_solder(1, seed=7)
    photo = tmp_path / "joint.png"
    Image.fromarray((x[0].transpose(1, 2, 0) * 255).astype(np.uint8)).save(photo)

    out_png = tmp_path / "map.png"
    code, out, err = run_cli(capsys, ws, "predict", run, str(photo), "--map", str(out_png))
    assert code == 0, err
    assert "anomaly" in out or "normal" in out
    assert f"wrote {out_png}" in out.replace("\n", "")
    with Image.open(out_png) as img:
        assert img.format == "PNG" and img.size == (256, 256)  # 64×64 enlarged 4 times

    code, out, err = run_cli(capsys, ws, "predict", run, str(photo), "--json")
    answer = json.loads(out)[0]
    assert answer["verdict"] == ("anomaly" if answer["score"] > answer["threshold"] else "normal")


def test_bad_map_and_small_images_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    code, _, err = run_cli(
        capsys, ws, "train", "-d", "smileys:per_class=5", "-m", "patchcore", "--task", "anomaly",
        "--normal-class", "smile",
    )  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "at least 32×32; received 28×28" in err
    code, out, err = run_cli(capsys, ws, "train", "-d", "solder:per_class=5", "-m", "lenet",
                             "--epochs", "1", "--json")  # fmt: skip
    run = json.loads(out)["run_id"]
    photo = tmp_path / "joint.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(photo)
    code, _, err = run_cli(capsys, ws, "predict", run, str(photo), "--map", str(tmp_path / "m.png"))
    assert code == 2 and "gives no anomaly maps" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.png").exists()
    code, _, err = run_cli(capsys, ws, "predict", run, str(photo), "--map", str(tmp_path / "m.jpg"))
    assert code == 2 and "--map writes a PNG" in err
