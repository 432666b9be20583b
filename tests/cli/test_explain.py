"""`lernwerk explain RUN INPUT --out DIR`: PNG files and the numbers; one line on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import lernwerk
from lernwerk.cli import main


@pytest.fixture(scope="module")
def ws_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, lernwerk.Run, Path]:
    root = tmp_path_factory.mktemp("cli-explain")
    ws = lernwerk.Workspace(root / "ws")
    run = ws.fit("smileys:per_class=20", "smiley-cnn", epochs=1, seed=0, name="faces")
    x, _ = ws.load_dataset("smileys:per_class=20").subset(torch.tensor([0]))
    png = root / "face.png"
    Image.fromarray(np.round(x[0, 0].numpy() * 255).astype(np.uint8), "L").save(png)
    return root / "ws", run, png


def test_explain_writes_the_pictures_and_the_numbers(
    capsys: pytest.CaptureFixture[str], ws_run: tuple[Path, lernwerk.Run, Path], tmp_path: Path
) -> None:
    ws, run, png = ws_run
    out = tmp_path / "why"
    code = main(["-w", str(ws), "explain", "faces", str(png), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    names = {p.name for p in out.iterdir()}
    assert {"input.png", "saliency.png", "gradcam.png", "explanation.json"} <= names
    assert {"feature-maps-layer1.png", "feature-maps-layer3.png"} <= names
    numbers = json.loads((out / "explanation.json").read_text())
    assert numbers["run_id"] == run.id and numbers["input"] == str(png)
    assert np.asarray(numbers["attribution"]).shape == (1, 28, 28)
    assert f"explained class {numbers['target_name']}" in captured.out


def test_explain_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], ws_run: tuple[Path, lernwerk.Run, Path], tmp_path: Path
) -> None:
    ws, _, png = ws_run
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((3, 5), dtype=np.float32))
    for args, says in [
        (["explain", "faces", str(wrong)], "wrong.npy"),
        (["explain", "faces", str(png), "--target", "cat"], "target must be one of the classes"),
        (["explain", "nosuchrun", str(png)], "nosuchrun"),
    ]:
        code = main(["-w", str(ws), *args, "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and says in err, err
        assert not (tmp_path / "o").exists()
