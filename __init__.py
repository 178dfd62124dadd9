"""standardiste: a terminal agent console for customer service."""

# The installed distribution's metadata is the version's source (pyproject.toml); this is the fallback for a source
# tree run without installing, kept equal to pyproject's by tests/system/test_cli_habits.py.
__version__ = "0.1.0"
