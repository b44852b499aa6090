"""Renderings of runs and comparisons: terminal, markdown, JUnit XML (one module per format)."""
