"""A judge's version: a short hash of everything that changes its verdicts.

Its own module because it joins the definition and the prompt template's version, and the
prompt renders definitions: neither of those two may import the other.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from evalkit.grading.judge.definition import JudgeDef
from evalkit.grading.judge.prompt import PROMPT_TEMPLATE_VERSION
from evalkit.model.provider import TargetSpec


def _fingerprint_model(definition: JudgeDef, target: TargetSpec | None) -> dict[str, Any]:
    if target is None:
        m = definition.model
        spec = {"provider": m.provider, "model": m.model, "params": m.params, "url": m.base_url}
        if m.provider == "scripted":
            spec.update(wire=m.wire, script=m.script)
        return spec
    from evalkit.execution.cache import target_identity

    spec = {
        "provider": target.provider,
        "model": target.model,
        "params": target.params,
        "url": target.base_url,
    }
    if target.provider == "scripted":
        spec.update(wire=target.wire, script=target_identity(target))
    return spec


def judge_version(
    definition: JudgeDef, target: TargetSpec | None = None, *, mode: str | None = None
) -> str:
    """Short hash of everything that changes verdicts.

    With ``target`` (the model that will really answer, e.g. a scripted stand-in), the model
    part comes from it, so a scripted judge never shares a version with the real one; for a
    scripted target the script's content is part of the version. ``mode`` is the output mode
    a verdict was obtained in (default: the configured one, ``auto`` included); ``tools``
    keeps the version evalkit 0.1.0 gave.
    """
    scale = definition.scale_impl
    payload = {
        "template": PROMPT_TEMPLATE_VERSION,
        "scale": definition.scale,
        "rubric": definition.rubric.strip(),
        "model": _fingerprint_model(definition, target),
        "sees": sorted(definition.sees),
        "examples": [
            {
                "input": ex.input,
                "output": ex.output,
                "output_a": ex.output_a,
                "output_b": ex.output_b,
                "verdict": scale.parse_example(ex.verdict),
                "critique": ex.critique,
            }
            for ex in definition.examples
        ],
        "samples": definition.samples,
        "threshold": definition.pass_threshold,
    }
    # ``tools`` is how every verdict was asked for before output modes existed (0.1.0): it
    # leaves the version as it was, so calibrations and baselines of judges still answering in
    # tools mode stay valid; any other mode asks differently and makes a new version
    if (output := mode or definition.output) != "tools":
        payload["output"] = output
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
