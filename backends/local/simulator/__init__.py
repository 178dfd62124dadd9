"""Simulated traffic for the embedded workspace: customers (`people`, `reactions`), scripted scenarios, the
history backfill, demo colleagues who take work through the same routing, and the `engine` that runs them."""
