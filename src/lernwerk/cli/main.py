"""The `lernwerk` entry: registers the command groups and maps errors to exit codes."""

from __future__ import annotations

import sys
from importlib import import_module

import typer

from lernwerk.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, app, state
from lernwerk.errors import LernwerkError, RunFailed

# The modules that register commands on `app`, in the order `lernwerk --help` lists them.
COMMAND_MODULES = ("train", "trained", "demo", "bench", "serve", "models", "datasets", "runs")
COMMAND_MODULES += ("inspect",)
COMMAND_MODULES += ("watch",)  # lernwerk watch: the hot folder (hand-off to the line)
COMMAND_MODULES += ("baselines",)
COMMAND_MODULES += ("fixes",)  # datasets relabel|confirm|undo, runs mistakes|retrain
COMMAND_MODULES += ("explain",)  # lernwerk explain: saliency and feature maps
COMMAND_MODULES += ("sweep",)  # lernwerk sweep, sweep-worker: Optuna studies
COMMAND_MODULES += ("checks",)  # lernwerk datasets check: the data checks
COMMAND_MODULES += ("generate",)  # lernwerk generate: images from a VAE or DCGAN run
for _module in COMMAND_MODULES:
    import_module(f"lernwerk.cli.{_module}")

# -- entry --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map errors to exit codes with one line on stderr."""
    state["argv"] = list(sys.argv[1:] if argv is None else argv)  # what --nproc passes on
    try:
        result = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return EXIT_INTERRUPTED
    except RunFailed as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    except LernwerkError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except OSError as exc:  # a path the user gave that cannot be written or read
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"error: {where}{exc.strerror or exc}\n")
        return EXIT_USAGE
    except Exception as exc:
        # Typer's (click's) usage errors: a bad option, a missing argument
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            # Typer words a bad choice "Value error, 'x' is not one of …": drop the prefix
            message = exc.format_message().replace("Value error, ", "")
            sys.stderr.write(f"error: {message}{hint}\n")
            return EXIT_USAGE
        raise
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
