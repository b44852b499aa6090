"""The file reference in docs/reference/ is generated from the models and cannot drift."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from evalkit.report.fields import NOTES, field_doc, shown_fields
from evalkit.report.reference import _models, generate, pages

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference"
REGENERATE = "run: python -m evalkit.report.reference docs/reference"


def test_committed_pages_are_what_the_models_generate() -> None:
    expected = generate()
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert sorted(committed) == sorted(expected), REGENERATE
    for name, text in expected.items():
        assert committed[name] == text, f"{name} drifted; {REGENERATE}"


def _documented_models() -> list[type[BaseModel]]:
    return [m for page in pages() if page.root is not None for m in _models(page.root)]


def test_every_field_a_user_writes_is_described() -> None:
    missing = [
        f"{cls.__name__}.{name}"
        for cls in _documented_models()
        for name, field in cls.model_fields.items()
        if not field.exclude and not field_doc(cls, name)
    ]
    assert missing == [], "describe them in the model or in evalkit/report/fields.py NOTES"


def test_no_note_describes_a_field_that_is_gone() -> None:
    declared = {
        f"{klass.__name__}.{name}"
        for cls in _documented_models()
        for klass in cls.__mro__
        for name in getattr(klass, "__annotations__", {})
    }
    assert sorted(set(NOTES) - declared) == []


def test_a_hash_colon_comment_documents_the_field_below_it() -> None:
    from evalkit.analysis.gate import Gate

    assert field_doc(Gate, "max_judge_error_rate").startswith("per judge: the share of its")
    # the model's own description wins over a note
    from evalkit.model.config import ProjectConfig

    assert field_doc(ProjectConfig, "plugins") == "modules imported for @check"


def test_pages_list_every_field_and_nested_model() -> None:
    from evalkit.scripted.script import Script

    text = generate()["scripted.md"]
    for cls in _models(Script):
        assert f"## {cls.__name__}" in text
        for shown, _ in shown_fields(cls):
            assert f"| `{shown}` |" in text
