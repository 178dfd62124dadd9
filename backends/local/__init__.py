"""The embedded local workspace: one SQLite file shared by every console on this machine."""

from .backend import LocalBackend, default_agent
from .rows import local_id, qualify
from .workspace import Workspace

__all__ = ["LocalBackend", "Workspace", "default_agent", "local_id", "qualify"]
