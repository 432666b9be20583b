"""`python -m lernwerk`: the CLI (what `torchrun -m lernwerk train ...` starts on each rank)."""

from lernwerk.cli import run

if __name__ == "__main__":
    run()
