"""Token prices and cost per call, from a bundled table users can override."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from evalkit._files import read_text
from evalkit._yamlpos import load_yaml, pydantic_error_to_input_error
from evalkit.exceptions import InputError


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float
    output: float


class PriceTable:
    """Model → price per million tokens. Dated model ids fall back to their undated prefix."""

    def __init__(self, prices: dict[str, Price]) -> None:
        self._prices = prices

    def price(self, model: str) -> Price | None:
        if model in self._prices:
            return self._prices[model]
        # "claude-sonnet-4-5-20250929" -> "claude-sonnet-4-5"
        best = max((k for k in self._prices if model.startswith(k)), key=len, default=None)
        return self._prices[best] if best else None

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        price = self.price(model)
        if price is None:
            return None
        return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


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
