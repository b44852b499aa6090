"""Statistics for evalkit: paired run comparisons and judge calibration (one module per family)."""
