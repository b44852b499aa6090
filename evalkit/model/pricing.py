"""Token prices and cost per call, from a bundled table users can override.

A model is priced only by its exact name or a name it declares in ``aliases`` (a dated id such
as ``claude-sonnet-4-5-20250929``): never by prefix, since ``gpt-5-nano`` is not ``gpt-5``. A model
without a price has cost ``None`` ("unknown"), never $0; :meth:`PriceTable.unpriced` names the
models that were asked for and had none, for a one-line warning.

Cached input is priced apart when a call reports it: ``cache_read`` and ``cache_write`` per
million tokens, defaulting to Anthropic's published multipliers of the input price (0.1× to
read, 1.25× to write a 5-minute cache entry).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.base.exceptions import InputError
from evalkit.base.files import read_text
from evalkit.base.yamlpos import load_yaml, pydantic_error_to_input_error

CACHE_READ_FACTOR = 0.1
CACHE_WRITE_FACTOR = 1.25


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    #: other names of the same model (dated ids, provider-specific spellings)
    aliases: tuple[str, ...] = ()


class PriceTable:
    """Model → price per million tokens (exact name or declared alias)."""

    def __init__(self, prices: dict[str, Price]) -> None:
        self._prices = dict(prices)
        for price in prices.values():
            for alias in price.aliases:
                self._prices.setdefault(alias, price)
        self._unpriced: set[str] = set()

    def price(self, model: str) -> Price | None:
        return self._prices.get(model)

    def cost(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        *,
        cache_read: int = 0,
        cache_write: int = 0,
    ) -> float | None:
        """USD of one call, or None when ``model`` has no price (a call of no tokens costs 0).

        ``input_tokens`` counts every input token; ``cache_read``/``cache_write`` are the part
        of it read from / written to the prompt cache.
        """
        if input_tokens == 0 and output_tokens == 0:
            return 0.0
        price = self.price(model)
        if price is None:
            self._unpriced.add(model or "(unnamed model)")
            return None
        read_price = price.cache_read
        if read_price is None:
            read_price = price.input * CACHE_READ_FACTOR
        write_price = price.cache_write
        if write_price is None:
            write_price = price.input * CACHE_WRITE_FACTOR
        fresh = max(0, input_tokens - cache_read - cache_write)
        total = (
            fresh * price.input
            + cache_read * read_price
            + cache_write * write_price
            + output_tokens * price.output
        )
        return total / 1_000_000

    def unpriced(self) -> list[str]:
        """Models asked for that have no price, sorted."""
        return sorted(self._unpriced)


def unpriced_warning(models: list[str]) -> str | None:
    """The one-line warning naming models without a price, or None."""
    if not models:
        return None
    return (
        f"no price for {', '.join(models)}: cost shown as unknown; price them in a "
        "`prices:` file in evalkit.yaml (exact name or `aliases`)"
    )


def total_cost(costs: Iterable[float | None]) -> float | None:
    """The sum of costs, or None when any is unknown (a partial sum would understate it)."""
    total = CostTotal()
    for c in costs:
        total.add(c)
    return total.value


class CostTotal:
    """:func:`total_cost` kept as a running sum, for summaries made in one streaming pass."""

    def __init__(self) -> None:
        self._sum = 0.0
        self._unknown = False

    def add(self, cost: float | None) -> None:
        if cost is None:
            self._unknown = True
        else:
            self._sum += cost

    @property
    def value(self) -> float | None:
        return None if self._unknown else round(self._sum, 6)


@lru_cache(maxsize=1)
def _bundled() -> dict[str, Price]:
    text = resources.files("evalkit").joinpath("data/prices.yaml").read_text("utf-8")
    data, _ = load_yaml(text, "evalkit/data/prices.yaml")
    return {k: Price.model_validate(v) for k, v in data.items()}


def load_prices(override: str | Path | None = None) -> PriceTable:
    prices = dict(_bundled())
    if override is not None:
        p = Path(override)
        data, positions = load_yaml(read_text(p), p)
        if not isinstance(data, dict):
            raise InputError("a price table maps model names to {input, output}", path=p, line=1)
        for model, raw in data.items():
            try:
                prices[str(model)] = Price.model_validate(raw)
            except ValidationError as exc:
                raise pydantic_error_to_input_error(exc, p, positions, prefix=(model,)) from None
    return PriceTable(prices)
