"""Majority over samples, flip rate, verdict cache and judge versions."""

from __future__ import annotations

import textwrap

from evalkit.execution.cache import ResponseCache
from evalkit.grading.judge import judge_stats, load_judge
from evalkit.grading.judge.version import judge_version
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord

from .conftest import CASE, fail_verdict, grade, pass_verdict


def _seq(*verdicts):
    return [{"json": v} for v in verdicts]


def test_majority_over_samples_with_flip_rate(serve, make_judge):
    server = serve(
        {
            "responses": [
                {
                    "when": {"case": "flaky"},
                    "sequence": _seq(pass_verdict(), fail_verdict(), pass_verdict()),
                },
                {"when": {"case": "steady"}, "json": fail_verdict()},
            ]
        }
    )
    judge = make_judge(server, samples=3)
    flaky = grade(judge, "out", case=CASE.model_copy(update={"id": "flaky"}))
    steady = grade(judge, "out", case=CASE.model_copy(update={"id": "steady"}))
    assert len(server.requests) == 6
    assert flaky.outcome is Outcome.PASS and flaky.flip and flaky.requests == 3
    assert sorted(s["verdict"] for s in flaky.samples) == [False, True, True]
    assert flaky.reasoning == "supported by pol-1"  # from a sample of the majority
    assert steady.outcome is Outcome.FAIL and not steady.flip
    records = [
        CaseRecord(case_id=c, outcome=v.outcome, output="out", judges=[v])
        for c, v in (("flaky", flaky), ("steady", steady))
    ]
    stats = judge_stats(records)["grounded"]
    assert stats["flip_rate"] == 0.5 and stats["pass_rate"] == 0.5 and stats["error_rate"] == 0
    assert stats["requests"] == 6 and stats["tokens"] > 0 and stats["cost_usd"] > 0


def test_an_even_split_is_an_error_not_a_default(serve, make_judge):
    server = serve(
        {
            "default": {"text": "x"},
            "responses": [
                {"when": {"case": "refund"}, "sequence": _seq(pass_verdict(), fail_verdict())},
            ],
        }
    )
    verdict = grade(make_judge(server, samples=2), "out")
    assert verdict.outcome is Outcome.ERROR and verdict.flip
    assert verdict.error is not None and verdict.error.kind == "no_majority"


def test_errored_samples_do_not_vote(serve, make_judge):
    bad = {"reasoning": "?", "passed": "maybe"}
    server = serve(
        {
            "responses": [
                {"when": {"case": "refund"}, "sequence": _seq(bad, fail_verdict(), fail_verdict())},
            ]
        }
    )
    verdict = grade(make_judge(server, samples=2, max_validation_retries=0), "out")
    assert verdict.outcome is Outcome.FAIL and not verdict.flip
    assert [s["error"] is not None for s in verdict.samples].count(True) == 1


def test_cache_hits_make_zero_requests(serve, make_judge, tmp_path):
    server = serve({"default": {"json": pass_verdict()}})

    def run(output: str):  # one "run": its own cache handle on the same directory, then closed
        cache = ResponseCache(tmp_path / "cache")
        try:
            return grade(make_judge(server, samples=3, cache=cache), output)
        finally:
            cache.close()

    first = run("same output")
    assert len(server.requests) == 3 and not first.cached
    again = run("same output")
    assert len(server.requests) == 3  # zero new requests
    assert again.cached and again.requests == 0 and again.outcome is Outcome.PASS
    assert again.usage == first.usage  # the cost it stands for is still reported
    run("a changed output")
    assert len(server.requests) == 6


def test_errors_are_not_cached(serve, make_judge):
    server = serve({"default": {"text": "no verdict"}})
    grade(make_judge(server, max_validation_retries=0, output="tools"), "out")
    grade(make_judge(server, max_validation_retries=0, output="tools"), "out")
    assert len(server.requests) == 2


JUDGE = """\
scale: binary
model: {provider: anthropic, model: claude-haiku-4-5, params: {temperature: 0}}
rubric: |
  PASS if grounded.
examples:
  - {input: q, output: o, verdict: pass, critique: fine}
"""


def _version(tmp_path, text: str) -> str:
    path = tmp_path / "grounded.yaml"
    path.write_text(textwrap.dedent(text))
    return judge_version(load_judge(path))


def test_judge_version_follows_what_changes_verdicts(tmp_path):
    base = _version(tmp_path, JUDGE)
    assert _version(tmp_path, "# a comment\n" + JUDGE.replace("scale", "# note\nscale")) == base
    assert _version(tmp_path, JUDGE.replace("grounded.\n", "grounded.   \n")) == base
    changed = {
        "rubric": JUDGE.replace("PASS if grounded.", "PASS if grounded and polite."),
        "model": JUDGE.replace("claude-haiku-4-5", "claude-sonnet-4-5"),
        "params": JUDGE.replace("temperature: 0", "temperature: 1"),
        "examples": JUDGE.replace("verdict: pass", "verdict: fail"),
        "samples": JUDGE + "samples: 3\n",
        "sees": JUDGE + "sees: [output]\n",
        "scale": JUDGE.replace("binary", "likert-5").replace("verdict: pass", "verdict: 5"),
    }
    versions = {what: _version(tmp_path, text) for what, text in changed.items()}
    assert base not in versions.values()
    assert len(set(versions.values())) == len(versions)
    # the timeout or the key's env var do not change verdicts
    same = JUDGE.replace("params:", "timeout: 30, api_key_env: MY_KEY, params:")
    assert _version(tmp_path, same) == base
