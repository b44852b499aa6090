"""The library API of `evalkit cache`: strings or numbers, and errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.api.cache import cache_dir, clear_cache, inspect_cache, prune_cache
from evalkit.base.exceptions import InputError
from evalkit.execution.cache import ResponseCache
from evalkit.model.provider import Completion


def test_cache_dir_follows_the_config_and_defaults_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import CONFIG

    (tmp_path / "evalkit.yaml").write_text("cache_dir: /abs/cache\n" + CONFIG)
    assert cache_dir(tmp_path / "evalkit.yaml") == Path("/abs/cache")
    (tmp_path / "evalkit.yaml").write_text(CONFIG)
    assert cache_dir(tmp_path / "evalkit.yaml") == tmp_path.resolve() / ".evalkit" / "cache"
    monkeypatch.chdir(tmp_path / "..")
    assert cache_dir(tmp_path / "missing.yaml") == Path.cwd() / ".evalkit" / "cache"


def test_prune_takes_strings_or_numbers(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put("k", Completion(text="x"))
    cache.close()
    assert prune_cache(tmp_path, older_than="30d").removed == 0
    assert prune_cache(tmp_path, older_than=3600, max_size="1GB").removed == 0
    assert prune_cache(tmp_path, max_size=0).removed == 1  # nothing fits in 0 bytes
    assert inspect_cache(tmp_path).total == 0
    assert clear_cache(tmp_path).removed == 0


@pytest.mark.parametrize(
    ("kwargs", "field", "says"),
    [
        ({}, "older_than", "say what to prune"),
        ({"older_than": "soon"}, "older_than", "not a duration"),
        ({"max_size": "big"}, "max_size", "not a size"),
        ({"older_than": -1}, "older_than", "must not be negative"),
    ],
)
def test_bad_arguments_name_the_field(
    tmp_path: Path, kwargs: dict[str, object], field: str, says: str
) -> None:
    with pytest.raises(InputError) as err:
        prune_cache(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field and says in str(err.value)
    assert not (tmp_path / "responses.sqlite").exists()
