"""An example standardiste adapter, packaged as a third party would ship it (docs/adapters.md).

Installed, its distribution declares the entry point `example = standardiste_example:EchoChatBackend` in
the `standardiste.backends` group; the tests put this folder, with its `.dist-info`, on `sys.path` instead.
"""

from .backend import EchoChatBackend

__all__ = ["EchoChatBackend"]
