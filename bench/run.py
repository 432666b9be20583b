"""`python -m bench.run` (and `make bench`): lernwerk's benchmark suites, reported here.

The suites live in the package, `lernwerk.bench` (`lernwerk bench` on any machine); this
entry only points the report at `bench/RESULTS.md` and `bench/results/` of the checkout.

    python -m bench.run                  # every suite
    python -m bench.run --suite digits   # one
    python -m bench.run --quick          # tiny sizes, under a minute per suite
"""

import sys
from pathlib import Path

from lernwerk.bench.run import main

DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"

if __name__ == "__main__":
    sys.exit(main(prog="python -m bench.run", default_out=DEFAULT_OUT))
