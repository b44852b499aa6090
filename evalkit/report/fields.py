"""What the reference docs and the JSON Schema say about a field of a pydantic model.

A field's description is the model's own: ``Field(description=...)``, else the ``#:`` comment
above it in the class body. Fields that have neither get a line from :data:`NOTES` here, so the
models stay the one source of their fields, types and defaults, and every field is described.
"""

from __future__ import annotations

import inspect
import re
import typing
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from evalkit.base.typenames import type_label
from evalkit.grading.check._docs import default_text

_FIELD_LINE = re.compile(r"^\s*(\w+)\s*:")

#: "Model.field" -> description, for fields whose model carries none
NOTES: dict[str, str] = {
    # evalkit.yaml
    "ProjectConfig.suites": "the suites, by name (`evalkit run NAME`)",
    "ProjectConfig.calibration": "thresholds a judge must meet to count as calibrated",
    "ProjectConfig.prices": "a YAML file of model prices that extends the built-in table",
    "ProjectConfig.runs_dir": "where runs are stored (relative to evalkit.yaml)",
    "ProjectConfig.cache_dir": (
        "the folder of the response cache, `responses.sqlite` (relative to evalkit.yaml); "
        "several projects and processes may share one (`evalkit cache` prunes it)"
    ),
    "SuiteConfig.description": "shown in reports",
    "SuiteConfig.goldens": "the golden set: a YAML list, JSONL or CSV file",
    "SuiteConfig.target": "the system under test",
    "SuiteConfig.checks": "deterministic checks applied to every case (see docs/checks.md)",
    "SuiteConfig.judges": "judge names: `judges/<name>.yaml`",
    "SuiteConfig.repeats": "samples per case (>1 measures flakiness and pass^k)",
    "SuiteConfig.concurrency": "model calls in flight at once",
    "SuiteConfig.cluster_key": "cases sharing this tag prefix (e.g. `tag:doc:`) form one "
    "cluster in comparisons",
    "SuiteConfig.retry": "evalkit's retry policy for the target and the judges",
    "SuiteConfig.gate": "rules that turn a run or comparison into an exit code",
    "TargetConfig.provider": "who answers: an SDK, a Python callable or the scripted model",
    "TargetConfig.model": "the model name sent to the provider",
    "TargetConfig.prompt": "the prompt file (not needed by a python callable that reads vars)",
    "TargetConfig.params": "sent with every call: temperature, max_tokens, ...",
    "TargetConfig.base_url": "an OpenAI- or Anthropic-compatible server (vLLM, Ollama, "
    "llama.cpp) or a running scripted server",
    "TargetConfig.callable": "provider python: `module:function` (see python.md)",
    "TargetConfig.api_key_env": "the environment variable holding the API key",
    "TargetConfig.timeout": "seconds per call",
    "TargetConfig.script": "provider scripted: the script file (see scripted.md)",
    "TargetConfig.wire": "provider scripted: the wire format the SDK client speaks",
    "TargetConfig.tool_runner": "`module:function` answering tool calls of conversation cases",
    "RetryConfig.max_attempts": "attempts per call, the first included",
    "RetryConfig.base_delay": "seconds before the first retry (exponential backoff, jitter)",
    "RetryConfig.max_delay": "longest wait between attempts, in seconds",
    "Gate.min_pass_rate": "fail below this pass rate (per case, repeats averaged, errors apart)",
    "Gate.max_error_rate": "fail above this share of outputs that could not be graded",
    "Gate.min_tag_pass_rate": "per tag: fail below this pass rate",
    "Gate.fail_on": "which change against the baseline fails the gate",
    "ThresholdsConfig.min_per_class": "human labels needed per class (default 30)",
    "ThresholdsConfig.min_kappa": "Cohen's kappa needed (default 0.6)",
    "ThresholdsConfig.min_tpr": "true positive rate needed (default 0.7)",
    "ThresholdsConfig.min_tnr": "true negative rate needed (default 0.7)",
    "CalibrationConfig.judges": "per judge: thresholds that win over the project's",
    # golden cases
    "Case.id": "stable and unique within the set; pairs cases across runs",
    "Case.vars": "template variables for the prompt and the checks",
    "Case.expected": "a reference answer (`{{ expected }}`; judges may see it)",
    "Case.context": "grounding documents the system may cite",
    "Case.tags": "for per-tag pass rates and gates, and clusters (`cluster_key: tag:...`)",
    "Case.checks": "checks for this case only, added to the suite's",
    "Case.judges": "judges for this case only, added to the suite's",
    "Case.skip_judges": "suite judges not to run on this case",
    "Case.metadata": "free-form, kept in the record",
    "Case.messages": "a conversation case: the turns so far; the last one is answered",
    "Case.tools": "tools the system may call: an inline list or a tools file",
    "Case.tool_results": "offline tool answers, first match wins",
    "Case.max_turns": "model turns allowed in the tool loop",
    "CaseTurn.role": "system, user, assistant or tool",
    "CaseTurn.content": "the turn's text (a tool turn: the tool's result)",
    "CaseTurn.tool_calls": "assistant turns: the tool calls already made",
    "CaseToolCall.id": "the call id a tool turn answers",
    "CaseToolCall.name": "the tool called",
    "CaseToolCall.arguments": "the call's arguments",
    "ToolDef.name": "the tool's name",
    "ToolDef.description": "what the tool does, as the model sees it",
    "ToolResultRule.tool": "the tool whose calls this rule answers",
    "ToolResultRule.args": "arguments to match as a subset (none: any call of the tool)",
    "ToolResultRule.result": "the result returned to the model",
    "ContextDoc.id": "the id a citation names",
    "ContextDoc.text": "the document text",
    # prompts
    "Prompt.label": "a human name for this version (the version itself is a hash)",
    "Prompt.description": "what changed in this version",
    "Prompt.system": "the system message template (Jinja2)",
    "Prompt.user": "the user message template (Jinja2)",
    "Prompt.messages": "instead of system/user: a list of role/content templates",
    "_TemplateMessage.role": "system, user or assistant",
    "_TemplateMessage.content": "the message template (Jinja2)",
    # judges
    "JudgeDef.name": "the file name without .yaml (may be omitted)",
    "JudgeDef.description": "shown in reports",
    "JudgeDef.scale": "binary, likert-5 or pairwise",
    "JudgeDef.model": "the model that judges",
    "JudgeDef.rubric": "what to judge and how: the heart of the judge",
    "JudgeDef.sees": "what the judge is shown of each case",
    "JudgeDef.examples": "few-shot examples with their verdicts",
    "JudgeDef.samples": "ask k times and take the majority; the flip rate is reported",
    "JudgeDef.pass_threshold": "likert-5: the lowest passing score (default 4)",
    "JudgeDef.max_validation_retries": "re-asks after an invalid verdict",
    "JudgeModel.provider": "anthropic, openai or scripted",
    "JudgeModel.model": "the model name",
    "JudgeModel.params": "sent with every call",
    "JudgeModel.base_url": "an OpenAI- or Anthropic-compatible server",
    "JudgeModel.api_key_env": "the environment variable holding the API key",
    "JudgeModel.timeout": "seconds per call",
    "JudgeModel.script": "provider scripted: the script file",
    "JudgeModel.wire": "provider scripted: the wire format",
    "JudgeExample.input": "what the judge would see of the case",
    "JudgeExample.output": "the graded output (binary and likert judges)",
    "JudgeExample.output_a": "pairwise: the first output",
    "JudgeExample.output_b": "pairwise: the second output",
    "JudgeExample.verdict": "pass/fail, a score 1-5, or A/B/tie",
    "JudgeExample.critique": "why: shown to the judge as the reasoning",
    # labels
    "Label.case_id": "the golden case",
    "Label.output": "the exact output rated",
    "Label.output_sha": "SHA-256 of the output; empty in a hand-written file (filled in)",
    "Label.label": "pass/fail for binary judges, 1-5 for likert-5",
    "Label.critique": "why, in the labeller's words (shown beside the judge's reasoning)",
    "Label.labeler": "who labelled",
    "Label.labeled_at": "when (ISO 8601)",
    "Label.run_id": "the run the output came from",
    "Label.sampling": "how the output was chosen for labelling",
    "Sampling.mode": "random, stratified (by judge verdict), import or manual",
    "Sampling.seed": "the sampling seed",
    "Sampling.stratum_size": "stratified only: how many outputs of the run had that verdict",
    "Sampling.source": "where imported labels came from",
    # scripted model
    "ScriptedToolCall.name": "the tool the scripted model calls",
    "ScriptedToolCall.arguments": "its arguments (a string is sent verbatim)",
    "When.case": "the golden case id",
    "When.model": "the model name asked for",
    "Usage.input_tokens": "input tokens reported",
    "Usage.output_tokens": "output tokens reported",
    "Usage.cache_read_input_tokens": "Anthropic-style cached input read",
    "Usage.cache_creation_input_tokens": "Anthropic-style cached input written",
    "ReplyFields.text": "the reply text",
    "ReplyFields.json_": "a JSON reply: a tool call when the request asks for one, else text",
    "ReplyFields.usage": "token usage to report (default: estimated)",
    "ReplyFields.latency_ms": "delay before this reply (default: the script's)",
    "ReplyFields.finish_reason": "`length` marks the reply as cut at the token limit",
    "Rule.when": "conditions, all of which must hold (none: every request)",
    "Rule.sequence": "successive replies for successive matching requests; the last repeats",
    "Rule.fault": "a failure served instead of the reply",
    "Fault.status": "an HTTP error status",
    "Fault.retry_after": "with status: the retry-after header, in seconds",
    "Fault.retry_after_ms": "with status: the retry-after-ms header",
    "Fault.malformed": "a cut-off 200 body",
    "Fault.drop": "close the connection without a reply",
    "Script.latency_ms": "default delay per reply",
    "Script.rate_limit": "answer 429 past a number of requests in flight or per window",
    "RateLimit.max_in_flight": "requests in flight above which the server answers 429",
    "RateLimit.per_window": "requests per window past which the server answers 429",
    "RateLimit.window_s": "the window's length in seconds (fixed windows from the server's start)",
    "RateLimit.retry_after_ms": "the retry-after-ms the 429 carries",
    "RateLimit.budget_headers": (
        "send rate-limit headers on every answer (the window's budget and reset, else free slots)"
    ),
    "Script.default": "the reply when no rule matches (omitted: a 404 error reply)",
    "Script.responses": "rules; the first that matches answers",
}


@cache
def _comment_docs(cls: type) -> dict[str, str]:
    """``#:`` comments above fields in the class body (and its bases')."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not issubclass(klass, BaseModel) or klass is BaseModel:
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        pending: list[str] = []
        for line in source.splitlines()[1:]:
            stripped = line.strip()
            if stripped.startswith("#:"):
                pending.append(stripped[2:].strip())
                continue
            match = _FIELD_LINE.match(line)
            if match and pending:
                docs[match.group(1)] = " ".join(pending)
            pending = []
    return docs


def _owner(cls: type[BaseModel], name: str) -> str:
    """The class that declares field ``name`` (NOTES are keyed by it)."""
    for klass in cls.__mro__:
        if name in getattr(klass, "__annotations__", {}):
            return klass.__name__
    return cls.__name__


def field_doc(cls: type[BaseModel], name: str) -> str:
    """The field's description: its own, its ``#:`` comment, or its note here."""
    field = cls.model_fields[name]
    text = field.description or _comment_docs(cls).get(name)
    text = text or NOTES.get(f"{_owner(cls, name)}.{name}", "")
    return text.replace("``", "`")


def shown_fields(cls: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """(name as written in the file, field) for every field a user writes."""
    return [(f.alias or n, f) for n, f in cls.model_fields.items() if not f.exclude]


def field_key(cls: type[BaseModel], shown: str) -> str:
    """The attribute name of the field written as ``shown``."""
    for name, field in cls.model_fields.items():
        if (field.alias or name) == shown:
            return name
    return shown


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's type refers to."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += nested_models(arg)
    return out


def model_title(cls: type[BaseModel]) -> str:
    return cls.__name__.lstrip("_")


def _model_link(cls: type) -> str | None:
    if not issubclass(cls, BaseModel):
        return None
    title = model_title(cls)
    return f"[{title}](#{title.lower()})"


def type_name(annotation: Any) -> str:
    """A reader-facing name for a field's type, linking nested models to their section."""
    return type_label(annotation, _model_link, literal="`{}`", mapping_values=True)


def default_shown(field: FieldInfo) -> str:
    """The default as written in a file; a nested model's default is ``{}`` (all its defaults)."""
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "`{}`"
    return default_text(field)


_BOUNDS = (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("min_length", "min length"))


def bounds(field: FieldInfo) -> str:
    """The field's numeric and length limits, as ", ≥ 0, ≤ 1" (empty when none)."""
    parts = []
    for item in field.metadata:
        for attr, sign in _BOUNDS:
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{sign} {value}")
    return "".join(f", {p}" for p in parts)
