"""Browser tests. A package, so that the server and the browser of `conftest.py`
(package-scoped) end when these tests end, not at the end of the whole run."""
