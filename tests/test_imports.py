"""Imports point down only (DESIGN.md): a walk over the source with `ast` finds wrong arrows.

Layers, top to bottom: faces (`cli`, `serving`) -> `api` -> verbs (`training`, `evaluation`,
`export`) -> nouns (`models`, `data`) -> base (`store`, `config`, `events`, `errors`).
Tools (`bench`) stand beside the faces: they use `api` and below, may print, and only the
faces import them; they import no face and no face library (the server is measured over HTTP).
Imports inside functions and under TYPE_CHECKING count as well.
"""

import ast
from pathlib import Path

import pytest

import lernwerk

SOURCE = Path(lernwerk.__file__).parent

FACE_LIBRARIES = ("typer", "rich", "fastapi", "uvicorn", "starlette", "sse_starlette")
BASE = ("store", "config", "events", "errors")
NOUNS = ("models", "data")
VERBS = ("training", "evaluation", "export")
FACES = ("cli", "serving")
TOOLS = ("bench",)

# (who, what they must not import)
RULES = [
    (BASE, (*NOUNS, *VERBS, "api", *TOOLS, *FACES)),
    (NOUNS, (*VERBS, "api", *TOOLS, *FACES)),
    (VERBS, ("api", *TOOLS, *FACES)),
    (("api",), (*TOOLS, *FACES)),
    (TOOLS, FACES),
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
        if not is_face and layer not in TOOLS:
            problems += [
                f"{where}:{line}: calls print() below the faces" for line in print_calls(path)
            ]
    return problems


def test_imports_point_down_only() -> None:
    assert (SOURCE / "api").is_dir() and (SOURCE / "training").is_dir()
    assert violations(SOURCE) == []


def test_every_subpackage_has_a_layer() -> None:
    known = {*BASE, *NOUNS, *VERBS, "api", *TOOLS, *FACES}
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
    for sub in ("store", "models", "training", "serving", "bench"):
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
        ({"training/x.py": "from lernwerk.bench import run\n"}, "training imports lernwerk.bench"),
        ({"bench/x.py": "from lernwerk.serving import app\n"}, "bench imports lernwerk.serving"),
        ({"bench/y.py": "import typer\n"}, "imports typer"),
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
            "cli.py": "import typer\nfrom rich.console import Console\nfrom lernwerk import api\nfrom lernwerk.bench import run\nprint('ok')\n",
            "serving/app.py": "from fastapi import FastAPI\nfrom lernwerk.api import Workspace\n",
            "api.py": "from lernwerk.training import trainer\nfrom lernwerk import __version__\n",
            "training/loop.py": "from ..models import net\nfrom lernwerk.store import db\n",
            "models/net.py": "from lernwerk.config import X\nimport torch\n",
            "store/db.py": "import sqlite3\nfrom lernwerk.errors import E\n",
            "bench/run.py": "from lernwerk.api import Workspace\nprint('42 s')\n",
        },
    )
    assert violations(root) == []
