"""Hearth: private AI chat that runs entirely on this computer."""

__version__ = "0.1.0"
