import sys

from lernwerk.cli import main

sys.exit(main())
