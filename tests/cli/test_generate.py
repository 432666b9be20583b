"""`lernwerk generate RUN --n 16 --out grid.png`: a PNG grid; one line on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import lernwerk
from lernwerk.cli import main


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-generate") / "ws"
    w = lernwerk.Workspace(root)
    w.fit("smileys:per_class=20", "vae", task="generate", epochs=1, seed=0, name="faces")
    w.fit("smileys:per_class=20", "smiley-cnn", epochs=1, seed=0, name="judge")
    return root


def test_generate_writes_a_png_grid(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    out = tmp_path / "grid.png"
    code = main(["-w", str(ws), "generate", "faces", "--n", "16", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    img = Image.open(out)
    # 4 x 4 faces of 28 px with a pixel between them, drawn twice the size
    assert img.size == (2 * (4 * 29 + 1), 2 * (4 * 29 + 1))
    assert "wrote 16 images of run" in captured.out and str(out) in captured.out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["judge", "--n", "4"], "does not generate images; train one with --task generate"),
        (["faces", "--n", "0"], "n must be 1 to 1024; got 0"),
        (["nosuchrun", "--n", "4"], "nosuchrun"),
    ],
)
def test_generate_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path, args: list[str], said: str
) -> None:
    out = tmp_path / "grid.png"
    code = main(["-w", str(ws), "generate", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and said in err and err.count("\n") == 1, err
    assert not out.exists()  # nothing of a refused request on disk
