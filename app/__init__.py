"""Hearth: a self-hosted personal backend."""

__version__ = "0.1.0"
