"""The baseline for the first-frame figure: the smallest Textual app that paints a line and a footer."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Static


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("minimal ready")
        yield Footer()


if __name__ == "__main__":
    Minimal().run()
