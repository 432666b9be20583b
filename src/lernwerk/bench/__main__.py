"""`python -m lernwerk.bench`: the same as `lernwerk bench`."""

import sys

from lernwerk.bench.run import main

sys.exit(main())
