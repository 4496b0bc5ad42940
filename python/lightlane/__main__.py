"""``python -m lightlane``."""

from .cli import run

run()
