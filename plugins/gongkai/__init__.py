"""Gongkai: a Pelican plugin that publishes validated disclosure, case and report records."""

from __future__ import annotations


def _generators(pelican):
    from .generator import RecordsGenerator

    return RecordsGenerator


def register() -> None:
    """Pelican's plugin entry point."""
    from pelican import signals

    # Held strongly (it lives as long as this module anyway): blinker's weak reference called back while the
    # interpreter tore the modules down, and printed a traceback after a failed `invoke publish`.
    signals.get_generators.connect(_generators, weak=False)
