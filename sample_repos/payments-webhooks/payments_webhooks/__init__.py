"""A small webhook receiver for a payments provider (stdlib only)."""

__version__ = "0.3.1"
