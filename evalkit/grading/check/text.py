"""Text checks: exact, substring, pattern, fuzzy and length comparisons of the raw output.

Failure reasons quote what was expected and the nearest part of the output, because "contains
failed" alone sends the user digging through results.jsonl.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq, Levenshtein

from evalkit.grading.check._jsonparse import snippet
from evalkit.grading.check._regex import REGEX_FLAGS, Pattern, compile_regex, search
from evalkit.grading.check.base import (
    REGEX,
    CannotGrade,
    Check,
    CheckContext,
    reference,
    register,
    verdict,
)
from evalkit.model.outcome import CheckResult

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def as_text(value: Any) -> str:
    """A reference as text: strings as they are, anything else (a dict ``expected``) as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def nearest(output: str, needle: str) -> str:
    """Where ``needle`` almost occurs in ``output``: a quote and its similarity."""
    if not output:
        return "output is empty"
    hit = fuzz.partial_ratio_alignment(needle, output)
    if hit is None or hit.score == 0:
        return f"output starts: {snippet(output)!r}"
    start, end = hit.dest_start, hit.dest_end
    quote = snippet(output, start, max(40, end - start + 30))
    return f"nearest: {quote!r} ({hit.score:.0f}% similar)"


def found_at(output: str, index: int, needle: str) -> str:
    return f"found {needle!r} at char {index}: {snippet(output, index)!r}"


class _Needles(Check):
    """Shared matching for the substring family: folding and locating each needle once."""

    ignore_case: bool = Field(default=False, description="compare case-insensitively")

    def _fold(self, text: str) -> str:
        return text.casefold() if self.ignore_case else text

    def _locate(self, output: str, needles: list[str]) -> list[int]:
        output = self._fold(output)
        return [output.find(self._fold(n)) for n in needles]


@register("contains")
class Contains(_Needles):
    """The output contains ``value`` as a substring."""

    example = "- {type: contains, value: refund}\n- {type: not-contains, value: As an AI}"
    value: str = Field(description="text that must appear")

    def run(self, ctx: CheckContext) -> CheckResult:
        index = self._locate(ctx.output, [self.value])[0]
        if index >= 0:
            return CheckResult.passed(self.type_name, found_at(ctx.output, index, self.value))
        return CheckResult.failed(
            self.type_name, f"missing {self.value!r}; {nearest(ctx.output, self.value)}"
        )


@register("icontains")
class IContains(Contains):
    """The output contains ``value``, ignoring case."""

    example = "- {type: icontains, value: refund}"
    ignore_case: bool = Field(default=True, description="compare case-insensitively")


@register("contains-any")
class ContainsAny(_Needles):
    """The output contains at least one of ``values``."""

    example = "- {type: contains-any, values: [refund, store credit]}"
    values: list[str] = Field(min_length=1, description="texts of which one must appear")

    def run(self, ctx: CheckContext) -> CheckResult:
        for needle, index in zip(self.values, self._locate(ctx.output, self.values), strict=True):
            if index >= 0:
                return CheckResult.passed(self.type_name, found_at(ctx.output, index, needle))
        return CheckResult.failed(
            self.type_name,
            f"none of {self.values!r} found; {nearest(ctx.output, self.values[0])}",
        )


@register("contains-all")
class ContainsAll(_Needles):
    """The output contains every one of ``values``; the score is the fraction found."""

    example = "- {type: contains-all, values: [refund, 7 days]}"
    values: list[str] = Field(min_length=1, description="texts that must all appear")

    def run(self, ctx: CheckContext) -> CheckResult:
        indices = self._locate(ctx.output, self.values)
        missing = [n for n, i in zip(self.values, indices, strict=True) if i < 0]
        score = 1 - len(missing) / len(self.values)
        if not missing:
            return CheckResult.passed(self.type_name, f"all {len(self.values)} values found")
        return CheckResult.failed(
            self.type_name,
            f"missing {missing!r}; {nearest(ctx.output, missing[0])}",
            score=score,
        )


class _Affix(_Needles):
    value: str = Field(description="the required prefix or suffix")
    strip: bool = Field(default=True, description="ignore surrounding whitespace of the output")


@register("starts-with")
class StartsWith(_Affix):
    """The output starts with ``value``."""

    example = '- {type: starts-with, value: "{"}'

    def run(self, ctx: CheckContext) -> CheckResult:
        text = ctx.output.lstrip() if self.strip else ctx.output
        ok = self._fold(text).startswith(self._fold(self.value))
        reason = f"output starts {snippet(text)!r}; expected {self.value!r}"
        return verdict(self.type_name, ok, reason)


@register("ends-with")
class EndsWith(_Affix):
    """The output ends with ``value``."""

    example = '- {type: ends-with, value: "Is there anything else I can help with?"}'

    def run(self, ctx: CheckContext) -> CheckResult:
        text = ctx.output.rstrip() if self.strip else ctx.output
        ok = self._fold(text).endswith(self._fold(self.value))
        reason = f"output ends {snippet(text, len(text))!r}; expected {self.value!r}"
        return verdict(self.type_name, ok, reason)


@register("equals")
class Equals(Check):
    """The output equals a reference text (default: the case's ``expected``)."""

    example = "- {type: equals, value: REFUND_APPROVED}\n- {type: equals, ignore_case: true}"
    value: str | None = Field(default=None, description="reference text; default: `expected`")
    ignore_case: bool = Field(default=False, description="compare case-insensitively")
    collapse_whitespace: bool = Field(default=False, description="treat whitespace runs as one")
    strip: bool = Field(default=True, description="ignore leading and trailing whitespace")

    def _norm(self, text: str) -> str:
        if self.strip:
            text = text.strip()
        if self.collapse_whitespace:
            text = _WS.sub(" ", text)
        return text.casefold() if self.ignore_case else text

    def run(self, ctx: CheckContext) -> CheckResult:
        want = as_text(reference(self.value, ctx))
        a, b = self._norm(want), self._norm(ctx.output)
        if a == b:
            return CheckResult.passed(self.type_name, f"output equals {snippet(want)!r}")
        at = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )
        return CheckResult.failed(
            self.type_name,
            f"expected {snippet(a, at)!r}, found {snippet(b, at)!r} (first difference at {at})",
        )


@register("regex")
class Regex(Check):
    """The output matches a regular expression (searched anywhere, unless anchored; a match
    running past the time limit is an error)."""

    example = r'- {type: regex, pattern: "order #\\d{6}", flags: i}'
    no_template = frozenset({"pattern", "flags"})
    pattern: Annotated[str, REGEX] = Field(description="Python regular expression; never templated")
    flags: str = Field(default="", description="any of i (ignore case), m, s, x, a")
    _compiled: Pattern = PrivateAttr()

    @field_validator("flags")
    @classmethod
    def _known_flags(cls, value: str) -> str:
        unknown = sorted(set(value) - set(REGEX_FLAGS))
        if unknown:
            raise ValueError(f"unknown regex flags {''.join(unknown)!r} (use i, m, s, x, a)")
        return value

    @model_validator(mode="after")
    def _compile(self) -> Regex:
        self._compiled = compile_regex(self.pattern, self.flags)
        return self

    def run(self, ctx: CheckContext) -> CheckResult:
        match = search(self._compiled, ctx.output)
        if match:
            return CheckResult.passed(
                self.type_name, f"matched {match.group()!r} at char {match.start()}"
            )
        return CheckResult.failed(
            self.type_name, f"no match for /{self.pattern}/ in {snippet(ctx.output)!r}"
        )


@register("similar")
class Similar(Check):
    """Normalised edit-distance similarity to a reference (1 - Levenshtein / longer length)."""

    example = "- {type: similar, threshold: 0.85}\n- {type: similar, value: Refund approved.}"
    value: str | None = Field(default=None, description="reference text; default: `expected`")
    threshold: float | None = Field(default=0.8, ge=0, le=1, description="minimum similarity")
    ignore_case: bool = Field(default=False, description="compare case-insensitively")

    def run(self, ctx: CheckContext) -> CheckResult:
        want, got = as_text(reference(self.value, ctx)), ctx.output
        if self.ignore_case:
            want, got = want.casefold(), got.casefold()
        score = similarity(want, got)
        return CheckResult.passed(self.type_name, f"similarity to {snippet(want)!r}", score=score)


def similarity(a: str, b: str) -> float:
    """1.0 for identical texts, 0.0 for nothing in common; symmetric."""
    return float(Levenshtein.normalized_similarity(a, b))


@register("length")
class Length(Check):
    """The output's length in characters, words or lines lies within ``min``..``max``."""

    example = "- {type: length, max: 120, unit: words}"
    min: int | None = Field(default=None, ge=0, description="smallest allowed length")
    max: int | None = Field(default=None, ge=0, description="largest allowed length")
    unit: Literal["chars", "words", "lines"] = Field(default="chars", description="what to count")

    @model_validator(mode="after")
    def _bounds(self) -> Length:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` ({self.min}) is larger than `max` ({self.max})")
        return self

    def run(self, ctx: CheckContext) -> CheckResult:
        text = ctx.output
        if self.unit == "chars":
            size = len(text)
        elif self.unit == "words":
            size = len(text.split())
        else:
            size = len(text.splitlines())
        if self.min is not None and size < self.min:
            return CheckResult.failed(self.type_name, f"{size} {self.unit}, fewer than {self.min}")
        if self.max is not None and size > self.max:
            return CheckResult.failed(self.type_name, f"{size} {self.unit}, more than {self.max}")
        return CheckResult.passed(self.type_name, f"{size} {self.unit}")


@register("rouge-l")
class RougeL(Check):
    """ROUGE-L F1 against a reference: longest common word subsequence, precision and recall."""

    example = "- {type: rouge-l, threshold: 0.5}"
    value: str | None = Field(default=None, description="reference text; default: `expected`")
    threshold: float | None = Field(default=0.5, ge=0, le=1, description="minimum F1")

    def run(self, ctx: CheckContext) -> CheckResult:
        ref = _WORD.findall(as_text(reference(self.value, ctx)).lower())
        if not ref:
            raise CannotGrade("the reference text has no words")
        out = _WORD.findall(ctx.output.lower())
        lcs = LCSseq.similarity(ref, out) if out else 0
        precision = lcs / len(out) if out else 0.0
        recall = lcs / len(ref)
        f1 = 0.0 if lcs == 0 else 2 * precision * recall / (precision + recall)
        reason = f"ROUGE-L F1 {f1:.3f} (precision {precision:.2f}, recall {recall:.2f})"
        return CheckResult.passed(self.type_name, reason, score=f1)
