"""The console's themes: dark, light and high contrast.

Urgency never rests on red against green alone: the warning colour is amber and the breach colour a
magenta-red drawn in reverse video, and each carries a glyph (▲ warning, ✖ breached) as well.
"""

from __future__ import annotations

from textual.theme import Theme

DARK = Theme(
    name="standardiste-dark",
    primary="#5fafff",
    secondary="#d7af5f",
    accent="#8787ff",
    warning="#ffaf00",
    error="#ff5f87",
    success="#5fd7d7",
    foreground="#e4e4e4",
    background="#121212",
    surface="#1c1c1c",
    panel="#262626",
    dark=True,
)
LIGHT = Theme(
    name="standardiste-light",
    primary="#005fd7",
    secondary="#875f00",
    accent="#5f5fd7",
    warning="#af5f00",
    error="#af005f",
    success="#008787",
    foreground="#1c1c1c",
    background="#fafafa",
    surface="#ffffff",
    panel="#e4e4e4",
    dark=False,
)
HIGH_CONTRAST = Theme(
    name="standardiste-high-contrast",
    primary="#00ffff",
    secondary="#ffff00",
    accent="#ffffff",
    warning="#ffff00",
    error="#ff00ff",
    success="#00ffff",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#303030",
    dark=True,
)
THEMES: tuple[Theme, ...] = (DARK, LIGHT, HIGH_CONTRAST)
SHORT_NAMES: dict[str, str] = {"dark": DARK.name, "light": LIGHT.name, "high-contrast": HIGH_CONTRAST.name}
