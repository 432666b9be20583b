"""GET /api/datasets/{name}/checks, and POST /api/runs refusing a dataset with a blocker."""

from __future__ import annotations

import httpx
import numpy as np


def test_checks_of_a_builtin(client: httpx.Client) -> None:
    r = client.get("/api/datasets/pickupgesturewiimotez/checks")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dataset"] == "pickupgesturewiimotez" and body["num_samples"] == 100
    found = {f["code"]: f for f in body["findings"]}
    assert set(found) == {"few_per_class", "series_lengths"}
    assert found["series_lengths"]["numbers"] == {
        "min": 29,
        "max": 361,
        "steps": 361,
        "policy": "pad",
    }
    assert found["few_per_class"]["severity"] == "warning" and found["few_per_class"]["why"]


def test_checks_follow_the_split_settings(client: httpx.Client) -> None:
    r = client.get("/api/datasets/xor/checks", params={"test_split": 0.05})
    assert r.status_code == 200
    assert [f["code"] for f in r.json()["findings"]] == ["small_test"]
    assert client.get("/api/datasets/xor/checks").json()["findings"] == []


def test_checks_of_what_is_not_there_or_bad_settings(client: httpx.Client) -> None:
    r = client.get("/api/datasets/nope/checks")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
    assert "dataset 'nope' not found" in r.json()["message"]
    r = client.get("/api/datasets/xor/checks", params={"test_split": 1.5})
    assert r.status_code == 422 and r.json()["where"] == "test_split"
    r = client.get("/api/datasets/xor/checks", params={"task": "clustering"})
    assert r.status_code == 422 and r.json()["where"] == "task"


def test_a_blocker_refuses_the_run_with_422(client: httpx.Client) -> None:
    rng = np.random.default_rng(0)
    rows = ["a,b,nr"] + [
        f"{a:.4f},{b:.4f},{i}" for i, (a, b) in enumerate(rng.normal(size=(60, 2)))
    ]
    r = client.post(
        "/api/datasets/import",
        data={"name": "checks-ids", "options": '{"target": "nr"}'},
        files={"file": ("teile.csv", "\n".join(rows).encode(), "text/csv")},
    )
    assert r.status_code == 201, r.text
    before = len(client.get("/api/runs").json())
    r = client.post("/api/runs", json={"dataset": "checks-ids", "model": "mlp"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "DataError" and body["where"] == "dataset"
    assert body["message"].startswith("data check failed for dataset 'checks-ids': the target nr")
    assert len(client.get("/api/runs").json()) == before  # nothing of it stored


def test_every_finding_has_its_text_in_english_and_german() -> None:
    import json
    import re
    from pathlib import Path

    import lernwerk.data.checks as checks_module
    from lernwerk.data import load_dataset_ref
    from lernwerk.data.checks import check_dataset

    static = Path(checks_module.__file__).parents[1] / "serving" / "static" / "i18n"
    en = json.loads((static / "en.json").read_text(encoding="utf-8"))
    de = json.loads((static / "de.json").read_text(encoding="utf-8"))
    here = Path(checks_module.__file__).parent
    source = "".join(
        (here / f"{name}.py").read_text(encoding="utf-8")
        for name in ("check_classes", "check_samples")
    )
    codes = set(re.findall(r'_finding\(\s*"(\w+)"', source))
    assert len(codes) == 17
    for code in codes:
        for part in ("message", "why", "action"):
            assert f"check.{code}.{part}" in en and f"check.{code}.{part}" in de, (code, part)
    # the numbers a finding carries fill every placeholder of its text
    for name in ("spiral", "pickupgesturewiimotez", "basicmotions", "japanesevowels"):
        for f in check_dataset(load_dataset_ref(name)).findings:
            for part in ("message", "why", "action"):
                wanted = set(re.findall(r"\{(\w+)\}", en[f"check.{f.code}.{part}"]))
                assert wanted <= set(f.numbers), (f.code, part, wanted - set(f.numbers))
