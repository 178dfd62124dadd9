"""Programs the tests run as real child processes (`python tests/helpers/<name>.py ...`)."""
