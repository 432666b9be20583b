"""`lernwerk datasets …` as a user runs it: imports that fail whole, clear errors, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lernwerk.cli import main


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stored_names(capsys: pytest.CaptureFixture[str], ws: Path) -> list[str]:
    code, out, _ = cli(capsys, ws, "datasets", "list", "--json")
    assert code == 0
    return [d["name"] for d in json.loads(out) if d["source"] == "workspace"]


def image_folder(root: Path, per_class: int = 4) -> Path:
    rng = np.random.default_rng(0)
    for k, name in enumerate(("gut", "brücke", "fehlt")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.random((12, 12)) * 80 + 60 * k).astype(np.uint8)
            Image.fromarray(pixels, "L").save(root / name / f"{i}.png")
    return root


def test_a_corrupt_png_fails_the_whole_import_and_skip_bad_imports_the_rest(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    folder = image_folder(tmp_path / "photos")
    (folder / "brücke" / "kaputt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")

    code, out, err = cli(capsys, ws, "datasets", "import", "solder", str(folder))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "kaputt.png" in err and "--skip-bad" in err
    assert stored_names(capsys, ws) == []

    args = ("datasets", "import", "solder", str(folder), "--skip-bad", "--image-size", "8")
    code, out, err = cli(capsys, ws, *args, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["num_samples"] == 12 and result["input_shape"] == [3, 8, 8]
    assert [s["path"].endswith("kaputt.png") for s in result["report"]["skipped"]] == [True]
    assert stored_names(capsys, ws) == ["solder"]


def test_class_names_are_checked_and_unicode_letters_allowed(
    capsys: pytest.CaptureFixture[str], ws: Path
) -> None:
    assert cli(capsys, ws, "datasets", "create", "d", "--empty", "--classes", "a")[0] == 0
    for bad in ("../x", "a/b", "", "x" * 300):
        code, _, err = cli(capsys, ws, "datasets", "add-class", "d", bad)
        assert code == 2 and len(err.strip().splitlines()) == 1, bad
    assert cli(capsys, ws, "datasets", "add-class", "d", "Lötstelle_gut")[0] == 0
    _, out, _ = cli(capsys, ws, "datasets", "show", "d", "--json")
    assert json.loads(out)["classes"] == ["a", "Lötstelle_gut"]


def test_a_text_value_in_a_numeric_column_names_row_and_column(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    path = tmp_path / "messwerte.csv"
    path.write_text("temp,druck,ok\n1.5,2.0,ja\n1.7,abc,nein\n1.6,2.2,ja\n", encoding="utf-8")
    code, _, err = cli(capsys, ws, "datasets", "import", "m", str(path), "--target", "ok")
    assert code == 2
    assert "messwerte.csv:3" in err and "druck" in err and "abc" in err
    assert stored_names(capsys, ws) == []


def test_a_german_excel_export_imports_with_decimal_commas(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    rows = ["Temperatur;Druck;Qualität"] + [
        f"{20 + i % 7},{i % 10};1,{i:03d};{'gut' if i % 3 else 'schlecht'}" for i in range(30)
    ]
    path.write_bytes(("\n".join(rows) + "\n").encode("utf-8-sig"))
    code, out, err = cli(
        capsys, ws, "datasets", "import", "q", str(path), "--target", "Qualität", "--json"
    )
    assert code == 0, err
    info = json.loads(out)
    assert info["feature_names"] == ["Temperatur", "Druck"]
    assert info["classes"] == ["gut", "schlecht"] and info["num_samples"] == 30
    code, out, _ = cli(capsys, ws, "train", "-d", "q", "-m", "mlp", "--epochs", "2", "--json")
    assert code == 0 and json.loads(out)["status"] == "finished"


def test_a_malformed_ts_line_is_named(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    path = tmp_path / "Kurven_TRAIN.ts"
    path.write_text(
        "@problemName Kurven\n@timeStamps false\n@univariate true\n@equalLength true\n"
        "@seriesLength 3\n@classLabel true ok nok\n@data\n1,2,3:ok\n1,x,3:nok\n"
    )
    code, _, err = cli(capsys, ws, "datasets", "import", "k", str(path))
    assert code == 2 and "Kurven_TRAIN.ts:9" in err


def test_create_show_preview_export_delete(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    code, out, _ = cli(
        capsys, ws, "datasets", "create", "pts", "--from", "moons", "--n", "60", "--json"
    )
    assert code == 0 and json.loads(out)["num_samples"] == 60
    _, out, _ = cli(capsys, ws, "datasets", "show", "pts")
    assert "pts" in out and "sha256:" in out
    code, _, err = cli(capsys, ws, "datasets", "preview", "pts", "--out", str(tmp_path / "p.png"))
    assert code == 2 and "table" in err
    grid = tmp_path / "grid.png"
    code, _, err = cli(capsys, ws, "datasets", "preview", "digits", "--augment", "--out", str(grid))
    assert code == 0, err
    assert Image.open(grid).size[0] > 100
    code, out, _ = cli(capsys, ws, "datasets", "export", "pts", str(tmp_path / "csv"), "--json")
    assert code == 0 and json.loads(out)["files"] == 1
    assert cli(capsys, ws, "datasets", "delete", "pts")[0] == 0
    assert stored_names(capsys, ws) == []
    code, _, err = cli(capsys, ws, "datasets", "delete", "pts")
    assert code == 2 and "not found" in err


def test_add_sample_takes_image_files_into_a_class(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    cli(capsys, ws, "datasets", "create", "cam", "--empty", "--classes", "ok,nok")
    shot = tmp_path / "shot.jpg"
    Image.new("RGB", (64, 48), (250, 250, 250)).save(shot)
    code, out, _ = cli(capsys, ws, "datasets", "add-sample", "cam", str(shot), "--label", "ok")
    assert code == 0
    code, _, err = cli(capsys, ws, "datasets", "add-sample", "cam", str(shot), "--label", "x")
    assert code == 2 and "no class 'x'" in err
    _, out, _ = cli(capsys, ws, "datasets", "show", "cam", "--json")
    assert json.loads(out)["class_counts"] == {"ok": 1, "nok": 0}


def test_predict_reads_a_csv_with_the_training_encoding(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    colours = rng.choice(["rot", "grün", "blau"], size=120)
    weight = rng.normal(5, 1, size=120)
    ok = np.where(colours == "rot", "nok", "ok")
    lines = ["Farbe;Gewicht;Ergebnis"] + [
        f"{c};{w:.2f}".replace(".", ",") + f";{o}"
        for c, w, o in zip(colours, weight, ok, strict=True)
    ]
    (tmp_path / "teile.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = cli(
        capsys, ws, "datasets", "import", "teile", str(tmp_path / "teile.csv"), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["feature_names"] == ["Farbe=blau", "Farbe=grün", "Farbe=rot", "Gewicht"]
    args = ("train", "-d", "teile", "-m", "mlp", "--epochs", "30", "--seed", "0", "--json")
    code, out, _ = cli(capsys, ws, *args)
    run_id = json.loads(out)["run_id"]
    new = tmp_path / "neu.csv"
    new.write_text("Gewicht;Farbe\n5,1;rot\n4,9;blau\n", encoding="utf-8")
    code, out, err = cli(capsys, ws, "predict", run_id, str(new), "--json")
    assert code == 0, err
    predicted = [r["predicted"] for r in json.loads(out)]
    assert predicted == ["nok", "ok"]
    new.write_text("Gewicht;Farbe\n5,1;lila\n", encoding="utf-8")
    code, _, err = cli(capsys, ws, "predict", run_id, str(new))
    assert code == 2 and "lila" in err and "neu.csv:2" in err


def test_a_rejected_import_or_create_leaves_no_folder(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    import zipfile

    archive = tmp_path / "traversal.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/1.png", b"x")
        z.writestr("../../x/evil.png", b"x")
    code, _, err = cli(capsys, ws, "datasets", "import", "z1", str(archive))
    assert code == 2 and "'..'" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, ws, "datasets", "create", "h36", "--from", "smileys", "--n", "-5")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, ws, "datasets", "create", "LPT1", "--from", "xor")
    assert code == 2 and "reserved device name on Windows" in err
    assert list((ws / "datasets").iterdir()) == []
    assert [p.name for p in (ws / "tmp").iterdir()] == [".lock"]


def test_add_sample_takes_a_zip_and_says_which_entries_it_skipped(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    import io
    import zipfile

    cli(capsys, ws, "datasets", "create", "cam", "--empty", "--classes", "ok")
    png = io.BytesIO()
    Image.new("L", (10, 10), 200).save(png, format="PNG")
    archive = tmp_path / "shots.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("shots/1.png", png.getvalue())
        z.writestr("../../x/evil.png", png.getvalue())
    code, out, err = cli(capsys, ws, "datasets", "add-sample", "cam", str(archive), "--label", "ok")
    assert code == 0 and "added 1 to ok" in out
    assert "skipped" in err and "../../x/evil.png" in err and "leads out of the archive" in err
    code, out, _ = cli(
        capsys, ws, "datasets", "add-sample", "cam", str(archive), "--label", "ok", "--json"
    )
    assert code == 0 and json.loads(out)["skipped"][0]["code"] == "unsafe"


def test_the_help_of_n_says_what_it_counts_for_each_generator(
    capsys: pytest.CaptureFixture[str], ws: Path
) -> None:
    from lernwerk.cli.datasets import N_HELP, N_IN_ALL, N_PER_CLASS
    from lernwerk.data.builtin import BUILTINS

    def sized_by(*keys: str) -> list[str]:
        return sorted(
            name
            for name, b in BUILTINS.items()
            if any(k in b.params_model.model_fields for k in keys)
        )

    assert list(N_PER_CLASS) == sized_by("per_class")
    assert list(N_IN_ALL) == sized_by("samples", "rows")
    assert "Per class for photos, process, smileys, solder" in N_HELP
    assert cli(capsys, ws, "datasets", "create", "faces", "--from", "smileys", "--n", "5")[0] == 0
    _, out, _ = cli(capsys, ws, "datasets", "show", "faces", "--json")
    assert json.loads(out)["num_samples"] == 5 * 4  # per class: 4 faces
    assert cli(capsys, ws, "datasets", "create", "pts", "--from", "xor", "--n", "30")[0] == 0
    _, out, _ = cli(capsys, ws, "datasets", "show", "pts", "--json")
    assert json.loads(out)["num_samples"] == 30  # in all


@pytest.mark.parametrize("seed", ["99999999999999999999", "-1"])
def test_a_preview_seed_out_of_range_is_one_line(capsys, tmp_path: Path, seed: str) -> None:
    code, out, err = cli(
        capsys,
        tmp_path / "ws",
        "datasets",
        "preview",
        "xor",
        "--seed",
        seed,
        "--out",
        str(tmp_path / "p.png"),
    )
    assert code == 2 and out == "" and not (tmp_path / "p.png").exists()
    assert err.strip() == f"error: seed must be between 0 and 2147483647; received: {seed}"
