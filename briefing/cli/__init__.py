"""The `briefing` command line. See `briefing --help`."""

from __future__ import annotations

from briefing.cli.app import cli, main

__all__ = ["cli", "main"]
