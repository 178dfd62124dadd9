"""The Textual side: the agent's App and workspace screen, dialogs, the outbox and help screens, and the
supervisor's wallboard. Actions here call decisions made in `core`."""
