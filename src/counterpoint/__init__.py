"""Counterpoint: a terminal workbench for multi-model coding."""

__version__ = "0.1.0"
