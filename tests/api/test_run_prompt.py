"""Every record keeps the rendered prompt exactly as sent, and the expected answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, run_suite
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.model.record import CaseRecord
from evalkit.scripted import ScriptedServer
from evalkit.storage.store import decode_record, read_records
from tests.api.test_run import write_project

FAST = RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.02)


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_records_keep_the_messages_the_server_received(tmp_path: Path, wire: str) -> None:
    script = {
        "default": {"text": "ok"},
        "responses": [{"when": {"case": "boom"}, "text": "x", "fault": {"status": 500}}],
    }
    with ScriptedServer(script) as server:
        url = server.url if wire == "anthropic" else server.openai_base_url
        hostile = "<script>alert(1)</script> \x1b[2J"
        cases = [
            {"id": "a", "vars": {"q": hostile}, "expected": {"answer": 42}},
            {"id": "boom", "vars": {"q": "fails"}, "expected": "never"},
        ]
        config = write_project(
            tmp_path, url, cases, error_budget=1.0, target={"wire": wire, "timeout": 10.0}
        )
        (tmp_path / "prompts" / "p.yaml").write_text(
            'system: "Be brief, {{ id }}."\nuser: "Q: {{ q }}"\n'
        )
        suite = load_suite(load_config(config), "demo")
        outcome = run_suite(suite, RunOptions(progress=False, retry=FAST))
        received = {r.context.get("case"): r.body for r in server.requests}
    records = {r.case_id: r for r in read_records(outcome.path)}
    assert records["a"].prompt == [
        {"role": "system", "content": "Be brief, a."},
        {"role": "user", "content": f"Q: {hostile}"},
    ]
    assert records["a"].expected == {"answer": 42}
    # exactly what went over the wire (system apart on the Anthropic wire)
    body = received["a"]
    sent = body["messages"]
    if wire == "anthropic":
        system = body["system"]
        text = system if isinstance(system, str) else "".join(b["text"] for b in system)
        sent = [{"role": "system", "content": text}, *sent]
    assert [(m["role"], _text(m["content"])) for m in sent] == [
        (m["role"], m["content"]) for m in records["a"].prompt
    ]
    # a provider error keeps what was sent too: that is what one debugs
    err = records["boom"]
    assert err.error is not None and err.prompt is not None
    assert err.prompt[-1] == {"role": "user", "content": "Q: fails"}
    assert err.expected == "never"


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    assert isinstance(content, list)
    return "".join(block["text"] for block in content)


def test_records_stored_before_the_field_still_load() -> None:
    line = json.dumps({"case_id": "old", "outcome": "pass", "output": "ok"})
    rec = decode_record(line)
    assert isinstance(rec, CaseRecord)
    assert rec.prompt is None and rec.expected is None and rec.output == "ok"
