"""The page's strings: every key the page names exists, in English and in German alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "src" / "lernwerk" / "serving" / "static"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# German for what the server sends as data (a built-in dataset's description): looked up
# by the page when present, the server's English otherwise
DATA_PREFIXES = ("builtin.", "data.", "param.", "preset.")


def table(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def page_sources() -> list[Path]:
    return [*STATIC.glob("*.js"), *STATIC.glob("components/*.js"), *STATIC.glob("views/*.js")]


def test_english_and_german_have_the_same_keys() -> None:
    en, de = table("en"), table("de")
    assert sorted(set(en) - set(de)) == []
    assert sorted(k for k in set(de) - set(en) if not k.startswith(DATA_PREFIXES)) == []


@pytest.mark.parametrize("key", sorted(table("en")))
def test_a_translation_keeps_the_placeholders(key: str) -> None:
    en, de = table("en"), table("de")
    assert set(PLACEHOLDER.findall(en[key])) == set(PLACEHOLDER.findall(de[key])), key
    assert de[key].strip(), key


def test_every_key_the_page_names_exists() -> None:
    en = table("en")
    named: set[str] = set()
    for path in page_sources():
        lines = path.read_text(encoding="utf-8").splitlines()
        text = "\n".join(line for line in lines if not line.lstrip().startswith(("//", "*")))
        named |= set(re.findall(r"\bt\(\s*\"([\w.]+)\"", text))  # t("key") with a literal key
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    named |= set(re.findall(r"data-i18n(?:-placeholder|-label)?=\"([\w.]+)\"", html))
    assert len(named) > 100
    assert sorted(k for k in named if k not in en) == []


def test_every_builtin_dataset_has_a_german_description() -> None:
    from lernwerk.data.builtin import BUILTINS

    de = table("de")
    assert sorted(n for n in BUILTINS if f"builtin.{n}" not in de) == []
    assert sorted(k for k in de if k.startswith("builtin.") and k[8:] not in BUILTINS) == []


def test_the_description_of_a_dataset_drawn_by_hand_has_german(tmp_path) -> None:
    from lernwerk import Workspace

    ws = Workspace(tmp_path / "ws")
    ws.create_empty_dataset("faces", classes=["smile", "sad"])
    info = ws.dataset_info("faces")
    assert table("de")[info["description_key"]] != info["description"]
    assert ws.dataset_info("xor")["description_key"] == "builtin.xor"


def test_every_generator_parameter_and_preset_has_german_help(tmp_path) -> None:
    from lernwerk import Workspace
    from lernwerk.models import list_presets

    de = table("de")
    params = {
        f"param.{d['name']}.{p['name']}"
        for d in Workspace(tmp_path / "ws").list_datasets()
        if d.get("source") == "builtin"
        for p in d.get("params", [])
    }
    assert len(params) > 30 and sorted(params - set(de)) == []
    assert sorted(k for k in de if k.startswith("param.") and k not in params) == []
    presets = {f"preset.{p['name']}" for p in list_presets()}
    assert sorted(presets - set(de)) == []
    assert sorted(k for k in de if k.startswith("preset.") and k not in presets) == []
