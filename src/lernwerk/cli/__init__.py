"""The `lernwerk` command line: parse, call `lernwerk.api`, render. No training logic here.

Exit codes: 0 done, 1 the run failed, 2 bad input or usage (one line on stderr),
130 stopped by Ctrl-C (the run is kept as `stopped`).
"""

from lernwerk.cli import bench as _bench  # noqa: F401  (registers `lernwerk bench`)
from lernwerk.cli import datasets as _datasets  # noqa: F401  (registers `lernwerk datasets …`)
from lernwerk.cli import serve as _serve  # noqa: F401  (registers `lernwerk serve`)
from lernwerk.cli.main import app, main, run

__all__ = ["app", "main", "run"]
