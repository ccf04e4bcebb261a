"""Self-hosted memory layer for AI workflows."""

__version__ = "1.0.0"
