"""How often and how long to retry one model call: settings with their arithmetic.

The loop that applies them is :func:`evalkit.execution.provider.retry.call_with_retries`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from evalkit.base.exceptions import ProviderError


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying one logical call; ``max_attempts`` counts the first request too."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    max_malformed_attempts: int = 2

    def backoff_cap(self, attempt: int) -> float:
        """Upper bound of the jittered wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))

    def delay(self, error: ProviderError, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after ``error`` ended attempt number ``attempt``."""
        if error.retry_after is not None:
            return max(0.0, min(error.retry_after, self.max_retry_after))
        return float(rng.uniform(0.0, self.backoff_cap(attempt)))

    def should_retry(self, error: ProviderError, attempt: int) -> bool:
        """Whether another attempt may follow failed attempt number ``attempt``."""
        if not error.retryable or attempt >= self.max_attempts:
            return False
        return not (error.kind == "malformed" and attempt >= self.max_malformed_attempts)
