"""Briefing: seeds and feeds in, a weekly attributed email briefing out."""

from __future__ import annotations

__version__ = "0.1.0"
