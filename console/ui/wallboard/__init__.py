"""The supervisor's live wallboard: `app` runs it over a backend, `screen` draws the tiles and tables."""
