"""The dataset endpoints: create, import, show, samples in three forms, classes, previews."""

from __future__ import annotations

import io
import zipfile

import httpx
import numpy as np
from tests.serving.helpers import SIZE, data_url, make_image_dataset, pattern, png_bytes


def test_health(client: httpx.Client, server) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"] and body["workspace"].endswith("ws")


def test_list_has_builtins_and_stored(client: httpx.Client) -> None:
    r = client.post(
        "/api/datasets", json={"name": "xor-stored", "from": "xor", "params": {"samples": 40}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["num_samples"] == 40 and r.json()["stored"] is True
    items = {(d["name"], d["source"]) for d in client.get("/api/datasets").json()}
    assert ("xor", "builtin") in items and ("xor-stored", "workspace") in items
    assert (
        client.post("/api/datasets", json={"name": "xor-stored", "from": "xor"}).status_code == 409
    )


def test_table_shows_its_first_rows(client: httpx.Client) -> None:
    info = client.get("/api/datasets/xor").json()
    assert info["kind"] == "table" and set(info["splits"]) == {"train", "val", "test"}
    table = info["table"]
    assert len(table["rows"]) == 20 and len(table["columns"]) == len(table["rows"][0])


def test_samples_by_pixels_data_url_and_files(client: httpx.Client) -> None:
    make_image_dataset(client, "draw", per_class=1)
    rng = np.random.default_rng(1)
    by_url = client.post(
        "/api/datasets/draw/samples", json={"label": "left", "image": data_url(pattern(0, rng))}
    )
    assert by_url.status_code == 201, by_url.text
    # a larger drawing is brought to the dataset's 8×8
    big = client.post(
        "/api/datasets/draw/samples", json={"label": "right", "pixels": np.ones((28, 28)).tolist()}
    )
    assert big.status_code == 201, big.text
    files = [("files", (f"{i}.png", png_bytes(pattern(1, rng)), "image/png")) for i in range(3)]
    by_files = client.post("/api/datasets/draw/samples", data={"label": "right"}, files=files)
    assert by_files.status_code == 201, by_files.text
    assert len(by_files.json()["ids"]) == 3
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(2):
            z.writestr(f"some/folder/{i}.png", png_bytes(pattern(0, rng)))
        z.writestr("readme.txt", "not an image")
    by_zip = client.post(
        "/api/datasets/draw/samples",
        data={"label": "left"},
        files=[("files", ("drawings.zip", archive.getvalue(), "application/zip"))],
    )
    assert by_zip.status_code == 201, by_zip.text
    assert len(by_zip.json()["ids"]) == 2
    info = client.get("/api/datasets/draw").json()
    assert info["num_samples"] == 2 + 1 + 1 + 3 + 2
    assert info["class_counts"] == {"left": 4, "right": 5}

    page = client.get("/api/datasets/draw/samples", params={"label": "right", "limit": 2}).json()
    assert page["total"] == 5 and len(page["samples"]) == 2
    assert page["samples"][0]["label"] == "right" and page["samples"][0]["test"] is False

    sample_id = by_files.json()["ids"][0]
    png = client.get(f"/api/datasets/draw/samples/{sample_id}.png", params={"scale": 4})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")

    assert client.delete(f"/api/datasets/draw/samples/{sample_id}").status_code == 204
    assert client.get(f"/api/datasets/draw/samples/{sample_id}.png").status_code == 404
    assert client.delete(f"/api/datasets/draw/samples/{sample_id}").status_code == 404


def test_classes_add_rename_delete(client: httpx.Client) -> None:
    make_image_dataset(client, "classy", per_class=2)
    r = client.post("/api/datasets/classy/classes", json={"name": "middle"})
    assert r.status_code == 201 and r.json()["classes"] == ["left", "right", "middle"]
    r = client.patch("/api/datasets/classy/classes/middle", json={"name": "centre"})
    assert r.status_code == 200 and r.json()["classes"] == ["left", "right", "centre"]
    assert client.post("/api/datasets/classy/classes", json={"name": "left"}).status_code == 409
    assert client.delete("/api/datasets/classy/classes/left").status_code == 204
    info = client.get("/api/datasets/classy").json()
    assert info["classes"] == ["right", "centre"] and info["num_samples"] == 2
    assert client.delete("/api/datasets/classy/classes/nope").status_code == 404


def test_import_a_zip_of_class_folders(client: httpx.Client) -> None:
    rng = np.random.default_rng(2)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for k, cls in enumerate(("dark", "light")):
            for i in range(4):
                z.writestr(f"parts/{cls}/{i}.png", png_bytes(pattern(k, rng, 16)))
    r = client.post(
        "/api/datasets/import",
        data={"name": "parts", "options": '{"image_size": 8, "channels": 1}'},
        files={"file": ("parts.zip", archive.getvalue(), "application/zip")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["classes"] == ["dark", "light"] and body["num_samples"] == 8
    assert body["input_shape"] == [1, SIZE, SIZE] and body["report"]["imported"] == 8
    preview = client.get("/api/datasets/parts/preview.png", params={"augment": "1"})
    assert preview.status_code == 200 and preview.content.startswith(b"\x89PNG")
    bad = client.get("/api/datasets/parts/preview.png", params={"augment": "{bad"})
    assert bad.status_code == 422 and bad.json()["where"] == "augment"
    r = client.post("/api/datasets/parts/classes", json={"name": "../x"})
    assert r.status_code == 422 and r.json()["where"] == "name", r.text
    r = client.post("/api/datasets/parts/classes", json={"name": "DARK"})
    assert r.status_code == 409 and "only in case" in r.json()["message"]
    assert client.delete("/api/datasets/parts").status_code == 204
    assert client.get("/api/datasets/parts").status_code == 404


def test_import_errors_name_the_file_not_the_temporary_folder(client: httpx.Client) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("parts/good/1.png", png_bytes(np.zeros((8, 8))))
        z.writestr("parts/good/2.png", b"not a png at all")
    r = client.post(
        "/api/datasets/import",
        data={"name": "broken", "options": '{"image_size": 8}'},
        files={"file": ("parts.zip", archive.getvalue(), "application/zip")},
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "DataError" and "parts.zip:" in body["message"]
    assert "upload-" not in body["message"] and "2.png" in body["message"]
    assert client.get("/api/datasets/broken").status_code == 404  # nothing half-written
    bad_options = client.post(
        "/api/datasets/import",
        data={"name": "x", "options": "{not json"},
        files={"file": ("parts.zip", archive.getvalue(), "application/zip")},
    )
    assert bad_options.status_code == 422 and bad_options.json()["where"] == "options"


def test_a_rejected_create_or_import_leaves_nothing_in_the_workspace(
    client: httpx.Client,
) -> None:
    from pathlib import Path

    workspace = Path(client.get("/api/health").json()["workspace"])
    r = client.post(
        "/api/datasets", json={"name": "h36", "from": "smileys", "params": {"per_class": -5}}
    )
    assert r.status_code == 422, r.text
    r = client.post("/api/datasets", json={"name": "nul.txt", "from": "xor"})
    assert r.status_code == 422 and "reserved device name" in r.json()["message"], r.text
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("parts/good/1.png", png_bytes(np.zeros((8, 8))))
        z.writestr("../../x/evil.png", png_bytes(np.zeros((8, 8))))
    r = client.post(
        "/api/datasets/import",
        data={"name": "z1"},
        files={"file": ("traversal.zip", archive.getvalue(), "application/zip")},
    )
    assert r.status_code == 422 and "'..'" in r.json()["message"], r.text
    r = client.post("/api/datasets/nowhere/samples", json={"label": "a", "pixels": [[0.0]]})
    assert r.status_code == 404
    for name in ("h36", "nul.txt", "z1", "nowhere"):
        assert not (workspace / "datasets" / name).exists(), name
    assert not list((workspace / "tmp").glob("upload-*"))


def test_adding_a_zip_names_the_entries_it_passed_over(client: httpx.Client) -> None:
    r = client.post("/api/datasets", json={"name": "strays", "empty": {"classes": ["a"]}})
    assert r.status_code == 201, r.text
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/1.png", png_bytes(np.zeros((8, 8))))
        z.writestr("../../x/evil.png", png_bytes(np.zeros((8, 8))))
    r = client.post(
        "/api/datasets/strays/samples",
        data={"label": "a"},
        files={"files": ("up.zip", archive.getvalue(), "application/zip")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ids"] == [0]
    assert [(s["path"], s["code"]) for s in body["skipped"]] == [
        ("up.zip:../../x/evil.png", "unsafe")
    ]
