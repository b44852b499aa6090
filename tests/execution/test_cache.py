from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from evalkit.execution.cache import ResponseCache, cache_key
from evalkit.model.provider import Completion, TargetSpec

T = TargetSpec(provider="anthropic", model="m", params={"temperature": 0})
MSG = [{"role": "user", "content": "hi"}]


def test_key_changes_with_everything_that_changes_the_answer() -> None:
    base = cache_key(T, MSG, {"temperature": 0}, 0)  # type: ignore[arg-type]
    assert base == cache_key(T, MSG, {"temperature": 0}, 0)  # type: ignore[arg-type]
    others = {
        cache_key(T, [{"role": "user", "content": "hi!"}], {"temperature": 0}, 0),
        cache_key(T, MSG, {"temperature": 1}, 0),  # type: ignore[arg-type]
        cache_key(T, MSG, {"temperature": 0}, 1),  # type: ignore[arg-type]
        cache_key(
            TargetSpec(provider="anthropic", model="m2"),
            MSG,  # type: ignore[arg-type]
            {"temperature": 0},
            0,
        ),
        cache_key(
            TargetSpec(provider="openai", model="m", base_url="http://x"),
            MSG,
            {"temperature": 0},
            0,
        ),  # type: ignore[arg-type]
    }
    assert base not in others and len(others) == 5


def test_scripted_key_follows_the_script_content(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text("default: {text: a}\n")
    spec = TargetSpec(provider="scripted", model="m", script=str(script))
    first = cache_key(spec, MSG, {}, 0)  # type: ignore[arg-type]
    script.write_text("default: {text: b}\n")
    assert cache_key(spec, MSG, {}, 0) != first  # type: ignore[arg-type]


def test_store_get_many_and_disabled(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    for i in range(150):  # crosses the write batch
        cache.put(f"k{i}", Completion(text=str(i), output_tokens=i))
    assert cache.get("k3") == Completion(text="3", output_tokens=3)  # before flush
    cache.close()
    again = ResponseCache(tmp_path)
    found = again.get_many([f"k{i}" for i in range(0, 200, 10)])
    assert sorted(found) == sorted(f"k{i}" for i in range(0, 150, 10))
    assert found["k140"].text == "140"
    off = ResponseCache(tmp_path / "off", enabled=False)
    off.put("k", Completion(text="x"))
    assert off.get("k") is None and not (tmp_path / "off").exists()


def test_every_field_of_an_answer_is_stored_and_read_back(tmp_path: Path) -> None:
    answer = Completion(
        text="calling",
        input_tokens=120,
        output_tokens=7,
        model="m-2",
        finish_reason="tool_use",
        cache_read_tokens=100,
        cache_write_tokens=10,
        extra={"latency_ms": 51.5, "budget_left": 0.5},
        tool_calls=[{"id": "t1", "name": "lookup", "arguments": {"q": ["a", 1, None]}}],
    )
    cache = ResponseCache(tmp_path)
    cache.put("k", answer)
    cache.close()
    assert ResponseCache(tmp_path).get("k") == answer


def test_lone_surrogates_are_cached_and_read_back_identically(tmp_path: Path) -> None:
    text = "reply \ud800 with \udfff lone halves and a pair \U0001f600"
    msgs = [{"role": "user", "content": "q \udc00"}]
    key = cache_key(T, msgs, {}, 0)  # type: ignore[arg-type]
    assert key != cache_key(T, [{"role": "user", "content": "q \ufffd"}], {}, 0)  # type: ignore[arg-type]
    cache = ResponseCache(tmp_path)
    cache.put(key, Completion(text=text, model="m", input_tokens=1, output_tokens=2))
    cache.put_json("verdict", {"reasoning": text})
    cache.close()  # committed to SQLite, then read by a fresh connection
    again = ResponseCache(tmp_path)
    got = again.get_many([key])[key]
    assert got.text == text and again.get(key) == got
    assert again.get_json("verdict") == {"reasoning": text}
    again.close()


def test_valid_text_keeps_its_cache_key(tmp_path: Path) -> None:
    # surrogatepass changes nothing for valid text: caches made before stay valid
    import hashlib
    import json

    key = cache_key(T, [{"role": "user", "content": "héllo 😀"}], {}, 0)  # type: ignore[arg-type]
    payload = {
        "provider": "anthropic",
        "model": "m",
        "base_url": None,
        "wire": None,
        "params": {},
        "messages": [{"role": "user", "content": "héllo 😀"}],
        "repeat": 0,
        "identity": None,
        "extra": {},
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert key == hashlib.sha256(blob.encode("utf-8")).hexdigest()


def test_a_file_that_is_not_a_database_turns_the_cache_off_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "responses.sqlite").write_bytes(b"this is not SQLite " * 500)
    cache = ResponseCache(tmp_path)
    assert cache.get("k") is None and cache.get_many(["k"]) == {} and cache.get_json("k") is None
    for i in range(200):
        cache.put(f"k{i}", Completion(text="x"))
    cache.close()
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "no response cache" in err
    assert (tmp_path / "responses.sqlite").read_bytes().startswith(b"this is not SQLite")


def _corrupt_pages(path: Path) -> None:
    with path.open("r+b") as f:
        f.seek(4096 * 8)
        f.write(b"\xff" * 4096 * 16)


def test_a_damaged_file_read_mid_run_turns_the_cache_off_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ResponseCache(tmp_path)
    for i in range(2000):
        cache.put(f"k{i}", Completion(text="y" * 300))
    cache.close()
    _corrupt_pages(tmp_path / "responses.sqlite")
    damaged = ResponseCache(tmp_path)  # opens: the damage is only met when read
    assert damaged.get_many([f"k{i}" for i in range(2000)]) == {}
    assert damaged.get("k1") is None and damaged.get_json("k1") is None
    damaged.put("new", Completion(text="z"))
    damaged.close()
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "unreadable" in err


def test_an_entry_this_version_cannot_read_is_a_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put("good", Completion(text="fine"))
    cache.close()
    db = sqlite3.connect(tmp_path / "responses.sqlite")
    with db:
        db.execute(
            "INSERT INTO responses (key, value) VALUES ('future', ?), ('junk', 'not json')",
            ('{"text": "a", "field_of_a_later_version": 1}',),
        )
        db.execute("INSERT INTO results (key, value) VALUES ('junk', '{')")
    db.close()
    again = ResponseCache(tmp_path)
    assert sorted(again.get_many(["good", "future", "junk"])) == ["good"]
    assert again.get("future") is None and again.get_json("junk") is None
    again.put("future", Completion(text="rewritten"))  # a fresh answer replaces it
    again.close()
    assert ResponseCache(tmp_path).get("future") == Completion(text="rewritten")


def test_a_write_lock_held_past_the_timeout_defers_writes_then_they_land(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import evalkit.execution.cache as cache_module
    import evalkit.execution.cachedb as cachedb

    monkeypatch.setattr(cachedb, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT_S", 0.05)
    cache = ResponseCache(tmp_path)
    other = sqlite3.connect(tmp_path / "responses.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    for i in range(ResponseCache.BATCH * 3):
        cache.put(f"k{i}", Completion(text=str(i)))
    assert not cache.write_failed
    assert cache.get("k5") == Completion(text="5")  # still served from the pending batch
    other.execute("COMMIT")
    other.close()
    time.sleep(0.06)
    cache.close()
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "deferred" in err
    again = ResponseCache(tmp_path)
    keys = [f"k{i}" for i in range(ResponseCache.BATCH * 3)]
    assert len(again.get_many(keys)) == len(keys)


def test_a_hit_marks_an_old_entry_used_but_a_fresh_one_is_not_rewritten(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put("old", Completion(text="o"))
    cache.put_json("verdict", {"v": 1})
    cache.put("fresh", Completion(text="f"))
    cache.close()
    db = sqlite3.connect(tmp_path / "responses.sqlite")
    with db:
        db.execute("UPDATE responses SET used = 1000 WHERE key = 'old'")
        db.execute("UPDATE results SET used = 1000")
    fresh_used = db.execute("SELECT used FROM responses WHERE key = 'fresh'").fetchone()[0]
    again = ResponseCache(tmp_path)
    assert set(again.get_many(["old", "fresh"])) == {"old", "fresh"}
    assert again.get_json("verdict") == {"v": 1}
    again.close()
    used = dict(db.execute("SELECT key, used FROM responses").fetchall())
    assert used["old"] >= time.time() - 60 and used["fresh"] == fresh_used
    assert db.execute("SELECT used FROM results").fetchone()[0] >= time.time() - 60
