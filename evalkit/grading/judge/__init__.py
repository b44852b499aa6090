"""LLM judges: definitions as data, structured verdicts, pairwise with order swap.

Public API (nothing here imports a model SDK or instructor; they load on the first judge call):

* :func:`load_judge`, :func:`load_judges` → :class:`JudgeDef` (``judges/<name>.yaml``)
* :class:`Judge` (the engine's grader), :func:`build_judges`, :func:`judge_target`,
  :func:`judge_applies`, :func:`judge_names`
* :func:`judge_stats`, :func:`self_preference_warning` (run summary)
* :func:`judge_pairs` → :class:`PairwiseResult` (rendered by :mod:`evalkit.report.pairwise`)

Re-judging a stored run is a job: :mod:`evalkit.api.judge`.

Scales live in :mod:`evalkit.grading.judge.scale` (one file each plus a registry line); the prompt
layout is documented in :mod:`evalkit.grading.judge.prompt`.
"""

from __future__ import annotations

from evalkit.grading.judge.definition import JudgeDef, load_judge, load_judges
from evalkit.grading.judge.judge import (
    Judge,
    build_judges,
    judge_applies,
    judge_names,
    judge_target,
)
from evalkit.grading.judge.pairwise import PairwiseResult, judge_pairs
from evalkit.grading.judge.prompt import PROMPT_TEMPLATE_VERSION
from evalkit.grading.judge.stats import JudgeStats, judge_stats, self_preference_warning
from evalkit.grading.judge.version import judge_version

__all__ = [
    "PROMPT_TEMPLATE_VERSION",
    "Judge",
    "JudgeDef",
    "JudgeStats",
    "PairwiseResult",
    "build_judges",
    "judge_applies",
    "judge_names",
    "judge_pairs",
    "judge_stats",
    "judge_target",
    "judge_version",
    "load_judge",
    "load_judges",
    "self_preference_warning",
]
