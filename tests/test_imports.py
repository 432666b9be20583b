"""Imports point down only (DESIGN.md): a walk over the source with `ast` finds wrong arrows.

Layers, top to bottom: faces (`cli`, `serving`) -> `api` -> verbs (`training`, `evaluation`,
`export`) -> nouns (`models`, `data`) -> base (`store`, `config`, `events`, `errors`).
Tools (`bench/`) lie beside `src/`, in the checkout, not in the installed package: they use
lernwerk's public API and below, may print, and import no face and no face library (the
server is measured over HTTP); nothing in the package imports them (the CLI's `lernwerk bench`
loads them by importlib).
Imports inside functions and under TYPE_CHECKING count as well.
"""

import ast
import re
from pathlib import Path

import pytest

import lernwerk

SOURCE = Path(lernwerk.__file__).parent
CHECKOUT = Path(__file__).resolve().parents[1]

FACE_LIBRARIES = ("typer", "rich", "fastapi", "uvicorn", "starlette", "sse_starlette")
BASE = ("store", "config", "augment_standard", "events", "errors")  # config's plain values too
NOUNS = ("models", "data")
VERBS = ("training", "evaluation", "export")
FACES = ("cli", "serving", "__main__")  # __main__: `python -m lernwerk`, the CLI
TOOLS = ("bench",)  # top-level packages of the checkout, outside the installed package

# (who, what they must not import)
RULES = [
    (BASE, (*NOUNS, *VERBS, "api", *FACES)),
    (NOUNS, (*VERBS, "api", *FACES)),
    (VERBS, ("api", *FACES)),
    (("api",), FACES),
]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name) for every import in a file, relative imports resolved.

    `from lernwerk import x` counts as importing the module `lernwerk.x` when x is a
    submodule, and as taking the name x from the package root otherwise (name is None for
    modules).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                module = ".".join(
                    parts[: len(parts) - node.level + 1] + ([module] if module else [])
                )
            for alias in node.names:
                candidate = root.parent / f"{module}.{alias.name}".replace(".", "/")
                if candidate.with_suffix(".py").is_file() or candidate.is_dir():
                    found.append((node.lineno, f"{module}.{alias.name}", None))
                else:
                    found.append((node.lineno, module, alias.name))
    return found


def layer_of(module: str) -> str | None:
    """'lernwerk.training.trainer' -> 'training'; None for the package root or outsiders."""
    parts = module.split(".")
    if parts[0] != "lernwerk" or len(parts) < 2:
        return None
    return parts[1]


def print_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]


def violations(root: Path) -> list[str]:
    """Every wrong arrow under a source tree `root` (a directory named like the package)."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        here = module_name(path, root)
        layer = layer_of(here)
        where = path.relative_to(root.parent)
        is_face = layer in FACES
        is_root_init = here == root.name
        for line, module, name in imported_modules(path, root):
            top = module.split(".")[0]
            target = layer_of(module)
            if top in TOOLS:
                problems.append(
                    f"{where}:{line}: imports {module}; the tools lie outside the package"
                )
            if top in FACE_LIBRARIES and not is_face:
                problems.append(f"{where}:{line}: imports {module}; only cli.py and serving/ may")
            if target == "cli" and not is_face:
                problems.append(
                    f"{where}:{line}: imports {module}; only the faces may import the CLI"
                )
            for who, forbidden in RULES:
                if layer in who and target in forbidden:
                    problems.append(f"{where}:{line}: {layer} imports {module} (upward)")
            if (
                module == root.name
                and name not in (None, "__version__")
                and not (is_root_init or is_face)
            ):
                # the root re-exports the API: below it, only the version is safe to take
                problems.append(f"{where}:{line}: takes {name} from the package root")
        if not is_face:
            problems += [
                f"{where}:{line}: calls print() below the faces" for line in print_calls(path)
            ]
    return problems


def tool_violations(folder: Path) -> list[str]:
    """Wrong arrows from a tool beside the package (`bench/`): lernwerk's API and below only."""
    problems = []
    for path in sorted(folder.rglob("*.py")):
        where = path.relative_to(folder.parent)
        for line, module, name in imported_modules(path, folder):
            target = layer_of(module) or (name if module == "lernwerk" else None)
            if module.split(".")[0] in FACE_LIBRARIES:
                problems.append(f"{where}:{line}: imports {module}; a tool uses no face library")
            if target in FACES:
                problems.append(f"{where}:{line}: {folder.name} imports a face ({module})")
    return problems


def test_imports_point_down_only() -> None:
    assert (SOURCE / "api").is_dir() and (SOURCE / "training").is_dir()
    assert violations(SOURCE) == []


def test_the_tools_use_the_api_and_below() -> None:
    for tool in TOOLS:
        assert (CHECKOUT / tool / "__init__.py").is_file(), tool
        assert tool_violations(CHECKOUT / tool) == []


def test_every_subpackage_has_a_layer() -> None:
    known = {*BASE, *NOUNS, *VERBS, "api", *FACES}
    children = {
        p.stem
        for p in SOURCE.iterdir()
        if (p.suffix == ".py" or p.is_dir()) and p.stem != "__init__"
    }
    children -= {"__pycache__"}
    assert children <= known, (
        f"place {sorted(children - known)} in a layer of this test and DESIGN.md"
    )


# ---------------------------------------------------------------------------- the checker itself


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """A small fake source tree: a package root, a CLI, an API and a few layers."""
    root = tmp_path / "lernwerk"
    for sub in ("store", "models", "training", "serving"):
        (root / sub).mkdir(parents=True)
        (root / sub / "__init__.py").touch()
    (root / "__init__.py").write_text("from lernwerk.api import fit\n__version__ = '0'\n")
    (root / "cli.py").write_text("import typer\n")
    (root / "api.py").write_text("")
    for name, text in files.items():
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"store/db.py": "from lernwerk.models import layers\n"}, "store imports lernwerk.models"),
        (
            {"models/net.py": "def f():\n    from ..training import trainer\n"},
            "models imports lernwerk.training",
        ),
        ({"training/loop.py": "import lernwerk.api\n"}, "training imports lernwerk.api"),
        ({"api.py": "from lernwerk.serving import app\n"}, "api imports lernwerk.serving"),
        ({"training/bar.py": "from rich.progress import Progress\n"}, "imports rich.progress"),
        ({"api.py": "import typer\n"}, "imports typer"),
        ({"__init__.py": "from lernwerk.cli import main\n"}, "only the faces may import the CLI"),
        ({"store/x.py": "from lernwerk import Workspace\n"}, "from the package root"),
        ({"training/log.py": "def log(x):\n    print(x)\n"}, "calls print() below the faces"),
        ({"training/x.py": "from bench import run\n"}, "the tools lie outside the package"),
        ({"cli.py": "import bench.run\n"}, "the tools lie outside the package"),
    ],
)
def test_the_checker_finds_wrong_arrows(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    problems = violations(_tree(tmp_path, files))
    assert len(problems) == 1 and expected in problems[0], problems


def test_the_checker_allows_the_right_arrows(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "cli.py": "import typer\nfrom rich.console import Console\nfrom lernwerk import api\nprint('ok')\n",
            "serving/app.py": "from fastapi import FastAPI\nfrom lernwerk.api import Workspace\n",
            "api.py": "from lernwerk.training import trainer\nfrom lernwerk import __version__\n",
            "training/loop.py": "from ..models import net\nfrom lernwerk.store import db\n",
            "models/net.py": "from lernwerk.config import X\nimport torch\n",
            "store/db.py": "import sqlite3\nfrom lernwerk.errors import E\n",
        },
    )
    assert violations(root) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from lernwerk.serving import app\n", "bench imports a face (lernwerk.serving)"),
        ("def f():\n    from lernwerk import cli\n", "bench imports a face (lernwerk)"),
        ("import typer\n", "imports typer; a tool uses no face library"),
    ],
)
def test_the_checker_finds_a_tool_importing_a_face(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "run.py").write_text("from lernwerk.api import Workspace\nprint(1)\n")
    assert tool_violations(tmp_path / "bench") == []
    (tmp_path / "bench" / "x.py").write_text(text)
    problems = tool_violations(tmp_path / "bench")
    assert len(problems) == 1 and expected in problems[0], problems


# -- public PyTorch only (issue 12) -------------------------------------------------------------

# `torch._x` attributes and modules, private names imported from torch, and nn.Module's and
# torch.optim's hook dictionaries and compiled-call slot (on any object): a PyTorch upgrade
# may change any of them without notice. Found with `ast`, so comments and strings do not count.
TORCH_INTERNALS = re.compile(
    r"_(global_)?(forward|backward)(_pre)?_hooks|_optimizer_step_(pre|post)_hooks"
    r"|_global_optimizer_(pre|post)_hooks|_compiled_call_impl"
)
# (file name, the expression, why it is allowed): none at present
PRIVATE_TORCH_ALLOWED: list[tuple[str, str, str]] = []


def _dotted(node: ast.expr) -> str | None:
    """'torch._C._get_tracing_state' for that attribute chain; None if it is not one."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _private(dotted: str) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in dotted.split(".")[1:])


def private_torch_uses(root: Path) -> list[str]:
    """'path:line: expression' for each use of PyTorch's private API in the code under root."""
    allowed = {(f, what) for f, what, _ in PRIVATE_TORCH_ALLOWED}
    found: dict[str, str] = {}  # 'path:line' -> the longest expression found on it
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            what = None
            if isinstance(node, ast.Attribute):
                dotted = _dotted(node)
                if TORCH_INTERNALS.fullmatch(node.attr):
                    what = dotted or node.attr
                elif dotted and dotted.split(".")[0] == "torch" and _private(dotted):
                    what = dotted
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.split(".")[0] == "torch"]
                what = next((n for n in names if _private(n)), None)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
                names = [f"{node.module}.{a.name}" for a in node.names]
                what = next((n for n in names if _private(n)), None)
            if what and (path.name, what) not in allowed:
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                found[where] = max(found.get(where, ""), what, key=len)
    return [f"{where}: {what}" for where, what in sorted(found.items())]


def test_the_source_uses_public_pytorch_only() -> None:
    assert private_torch_uses(SOURCE) == []


@pytest.mark.parametrize(
    "line",
    [
        "fused = torch._fused_adam_",
        "torch._foreach_add_(steps, 1)",
        "tracing = torch._C._get_tracing_state()",
        "from torch.optim.optimizer import Optimizer, _global_optimizer_pre_hooks",
        "hooked = module._forward_hooks or m._global_backward_pre_hooks",
        "busy = p._compiled_call_impl is not None",
        "x = torch.nn.functional._canonical_mask(x)",
    ],
)
def test_the_private_torch_check_finds(line: str, tmp_path: Path) -> None:
    root = tmp_path / "lernwerk"
    root.mkdir()
    (root / "a.py").write_text(f'import torch\n{line}\n# torch._fused_adam_\n"torch._C"\n')
    assert [use.split(": ")[0] for use in private_torch_uses(root)] == ["lernwerk/a.py:2"]


def test_the_private_torch_check_allows_public_names(tmp_path: Path) -> None:
    root = tmp_path / "lernwerk"
    root.mkdir()
    public = "opt = torch.optim.Adam(p, fused=True)\ny = torch.nn.functional.relu(x)\n"
    (root / "a.py").write_text("import torch\nfrom torch import nn\n" + public)
    assert private_torch_uses(root) == []
