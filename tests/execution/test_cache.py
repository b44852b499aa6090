from __future__ import annotations

from pathlib import Path

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
