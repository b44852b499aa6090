from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError
from evalkit.base.format import usd
from evalkit.model.pricing import load_prices, total_cost, unpriced_warning


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


def test_a_prefix_is_not_a_price() -> None:
    prices = load_prices()
    # gpt-5-nano is not gpt-5; an undeclared dated id is not its model either
    assert prices.cost("gpt-5-nano", 1_000_000, 0) == pytest.approx(0.05)
    assert prices.cost("gpt-5-turbo-preview", 1000, 500) is None
    assert prices.cost("claude-sonnet-4-5-20991231", 1000, 500) is None
    assert prices.unpriced() == ["claude-sonnet-4-5-20991231", "gpt-5-turbo-preview"]


def test_aliases_declared_in_a_user_table(tmp_path: Path) -> None:
    p = tmp_path / "prices.yaml"
    p.write_text("smollm2: {input: 1.0, output: 2.0, aliases: [SmolLM2-135M-Instruct.Q4_1.gguf]}\n")
    prices = load_prices(p)
    assert prices.cost("SmolLM2-135M-Instruct.Q4_1.gguf", 1_000_000, 0) == pytest.approx(1.0)
    assert prices.unpriced() == []


def test_cached_input_is_priced_apart() -> None:
    prices = load_prices()
    # claude-haiku-4-5 at $1 input: 15 fresh, 20 read at 0.1x, 9 written at 1.25x; 10 out at $5
    cost = prices.cost("claude-haiku-4-5", 44, 10, cache_read=20, cache_write=9)
    assert cost == pytest.approx((15 * 1.0 + 20 * 0.1 + 9 * 1.25 + 10 * 5.0) / 1e6)
    # a declared cache_read price wins over the default multiplier (gpt-4o: half price)
    assert prices.cost("gpt-4o", 100, 0, cache_read=100) == pytest.approx(100 * 1.25 / 1e6)


def test_unknown_totals_are_unknown_and_the_warning_names_models() -> None:
    assert total_cost([0.5, None, 0.25]) is None
    assert total_cost([0.5, 0.25]) == pytest.approx(0.75)
    assert total_cost([]) == 0.0
    assert unpriced_warning([]) is None
    warning = unpriced_warning(["gpt-5-nano-x", "my-llama"])
    assert warning is not None and "gpt-5-nano-x, my-llama" in warning and "\n" not in warning
    assert usd(None) == "unknown" and usd(0.0) == "$0.0000"
