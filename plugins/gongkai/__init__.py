"""Gongkai: a Pelican plugin that publishes validated disclosure, case and report records."""

from __future__ import annotations


def _generators(pelican):
    from .generator import RecordsGenerator

    return RecordsGenerator


def register() -> None:
    """Pelican's plugin entry point."""
    from pelican import signals

    signals.get_generators.connect(_generators)
