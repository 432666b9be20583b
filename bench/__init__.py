"""This checkout's benchmark report: `python -m bench.run` runs the suites of `lernwerk.bench`."""
