"""The look every modal dialog shares (the console's dialogs and the composer's attach prompt)."""

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 64; max-width: 95%; height: auto; max-height: 80%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} Label.-title {{ text-style: bold; padding-bottom: 1; }}
{name} OptionList {{ height: auto; max-height: 16; border: none; }}
"""
