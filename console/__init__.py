"""The console: `core` decides (no Textual, no widgets, no concrete adapter), `ui` draws and takes keys.

The walls between them are import-linter contracts in pyproject.toml, checked by `make lint`.
"""
