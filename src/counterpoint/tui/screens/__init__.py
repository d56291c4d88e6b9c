"""Screens of the Counterpoint TUI."""
