from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.exceptions import InputError
from evalkit.pricing import load_prices


def test_bundled_prices_and_dated_model_ids() -> None:
    prices = load_prices()
    # 1,000 input and 500 output tokens of claude-sonnet-4-5 at $3 / $15 per million
    assert prices.cost("claude-sonnet-4-5", 1000, 500) == pytest.approx(0.0105)
    assert prices.cost("claude-sonnet-4-5-20250929", 1000, 500) == pytest.approx(0.0105)
    assert prices.cost("my-local-llama", 1000, 500) is None


def test_user_table_overrides_and_extends(tmp_path: Path) -> None:
    p = tmp_path / "prices.yaml"
    p.write_text("claude-sonnet-4-5: {input: 1.0, output: 2.0}\nmy-llama: {input: 0, output: 0}\n")
    prices = load_prices(p)
    assert prices.cost("claude-sonnet-4-5", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert prices.cost("my-llama", 10, 10) == 0.0


def test_bad_price_row_names_line_and_field(tmp_path: Path) -> None:
    p = tmp_path / "prices.yaml"
    p.write_text("a: {input: 1, output: 2}\nb: {input: cheap, output: 2}\n")
    with pytest.raises(InputError) as err:
        load_prices(p)
    assert err.value.line == 2 and err.value.field == "b.input"
