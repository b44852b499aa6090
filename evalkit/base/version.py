"""The one place evalkit's version is written (stored in every run manifest)."""

__version__ = "0.1.0"
