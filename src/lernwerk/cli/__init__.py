"""The `lernwerk` command line: parse, call `lernwerk.api`, render. No training logic here.

Exit codes: 0 done, 1 the run failed, 2 bad input or usage (one line on stderr),
130 stopped by Ctrl-C (the run is kept as `stopped`).
"""

from lernwerk.cli.main import app, main, run

__all__ = ["app", "main", "run"]
