"""Self-contained HTML reports: one file each, inline CSS/JS, data embedded as JSON.

One module per page (``run``, ``compare``, ``history``), imported where used: writing a run's
``report.html`` does not import the comparison statistics.
"""
