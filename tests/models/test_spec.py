"""Model specs: the three ways to write a layer, loading from files, and spec errors."""

from pathlib import Path

import pytest

from lernwerk.config import ModelSpec
from lernwerk.errors import NotFound, SpecError

CANONICAL = (
    {"type": "Flatten"},
    {"type": "Dense", "units": 8, "activation": "relu"},
    {"type": "Residual", "layers": [{"type": "Dense", "units": 8}, {"type": "Dropout"}]},
    {"type": "Dense", "units": "auto", "activation": "softmax"},
)


def test_the_three_layer_syntaxes_normalise_the_same() -> None:
    by_name = ModelSpec.from_dict(
        {
            "layers": [
                "Flatten",
                {"Dense": {"units": 8, "activation": "relu"}},
                {"Residual": {"layers": [{"Dense": {"units": 8}}, "Dropout"]}},
                {"Dense": {"units": "auto", "activation": "softmax"}},
            ]
        }
    )
    by_type = ModelSpec.from_dict({"layers": [dict(layer) for layer in CANONICAL]})
    mixed = ModelSpec.from_dict(
        {
            "layers": [
                {"Flatten": None},  # `- Flatten:` in YAML
                {"type": "Dense", "units": 8, "activation": "relu"},
                {"type": "Residual", "layers": [{"type": "Dense", "units": 8}, {"Dropout": {}}]},
                {"Dense": {"units": "auto", "activation": "softmax"}},
            ]
        }
    )
    assert by_name.layers == by_type.layers == mixed.layers == CANONICAL


def test_a_spec_survives_to_dict_and_back() -> None:
    spec = ModelSpec.from_dict({"name": "net", "input": {"shape": [2]}, "layers": list(CANONICAL)})
    assert ModelSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        ({"Dense": {"units": 3}, "Flatten": {}}, "expected {type: Name, ...} or {Name: {...}}"),
        ({"Dense": 3}, "layer 1 (Dense): expected a mapping of parameters; received: 3"),
        ({"type": 5}, "layer 1: 'type' must be a layer name"),
        (42, "layer 1: expected a mapping or a layer name; received: 42"),
    ],
)
def test_malformed_layers_are_spec_errors(layer: object, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        ModelSpec.from_dict({"layers": [layer]})
    assert expected in str(info.value)


def test_unknown_top_level_key_is_rejected() -> None:
    with pytest.raises(SpecError, match="model spec: optimiser: unknown key; received: 'adam'"):
        ModelSpec.from_dict({"layers": ["Flatten"], "optimiser": "adam"})


def test_empty_layers_and_bad_input_shape_are_rejected() -> None:
    with pytest.raises(SpecError, match="layers"):
        ModelSpec.from_dict({"layers": []})
    with pytest.raises(SpecError, match="input.shape"):
        ModelSpec.from_dict({"input": {"shape": [0, 3]}, "layers": ["Flatten"]})


def test_from_file_reads_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "net.yaml"
    yaml_file.write_text("name: net\nlayers:\n  - Flatten\n  - Dense: {units: 3}\n")
    json_file = tmp_path / "net.json"
    json_file.write_text('{"name": "net", "layers": ["Flatten", {"Dense": {"units": 3}}]}')
    assert ModelSpec.from_file(yaml_file) == ModelSpec.from_file(json_file)


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nlayers:\n  - Flatten\n  - Dense: {units: 3}\n   oops: : x\n")
    with pytest.raises(SpecError) as info:
        ModelSpec.from_file(path)
    message = str(info.value)
    assert str(path) in message
    assert "invalid YAML at line 5" in message


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "broken",\n  "layers": ["Flatten",]\n}\n')
    with pytest.raises(SpecError, match="invalid JSON at line 3"):
        ModelSpec.from_file(path)


def test_file_errors_name_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- Flatten\n")
    with pytest.raises(SpecError, match="expected a mapping at the top level; received: list"):
        ModelSpec.from_file(path)
    path.write_text("layers:\n  - Flatten\nlearning_rate: 3\n")
    with pytest.raises(SpecError, match=r"list.yaml: learning_rate: unknown key"):
        ModelSpec.from_file(path)
    with pytest.raises(NotFound, match="file not found"):
        ModelSpec.from_file(tmp_path / "missing.yaml")
