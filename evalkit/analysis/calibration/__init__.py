"""Judges against human labels: labels, sampling, calibration, status and corrected pass rates.

Public API (everything else is private to its module):

* labels: :class:`Label`, :func:`read_labels`, :func:`append_label`, :func:`import_csv`,
  :func:`labels_path`, :func:`output_sha`
* measuring: :func:`measure`, :class:`CalibrationResult`, :class:`Thresholds` (rendered by
  :mod:`evalkit.report.calibration`; the job that grades the labelled outputs and writes
  ``judges/<J>.calibration.json`` is :func:`evalkit.api.calibrate.calibrate`)
* reports: :func:`calibration_status`, :func:`calibration_section` (run post-step for
  ``summary["calibration"]``), :func:`comparison_calibration`
"""

from __future__ import annotations

from evalkit.analysis.calibration.labels import (
    Label,
    Sampling,
    append_label,
    import_csv,
    labels_path,
    output_sha,
    read_labels,
)
from evalkit.analysis.calibration.measure import (
    CalibrationResult,
    Thresholds,
    calibration_file,
    measure,
)
from evalkit.analysis.calibration.status import (
    CalibrationRows,
    CalibrationStatus,
    calibration_section,
    calibration_status,
    comparison_calibration,
)

__all__ = [
    "CalibrationResult",
    "CalibrationRows",
    "CalibrationStatus",
    "Label",
    "Sampling",
    "Thresholds",
    "append_label",
    "calibration_file",
    "calibration_section",
    "calibration_status",
    "comparison_calibration",
    "import_csv",
    "labels_path",
    "measure",
    "output_sha",
    "read_labels",
]
