"""Embedders turn text into unit vectors; each knows how to calibrate its cosines into relevance."""

from mem0_service.embedders.base import Calibration, Embedder

__all__ = ["Calibration", "Embedder"]
