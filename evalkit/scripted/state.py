"""What one scripted server holds between requests, shared by its handler threads: the script's
answers, its batches, the in-flight count, the prompt cache, and the log of requests seen."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from evalkit.scripted import profiles as _profiles
from evalkit.scripted.batches import BatchStore
from evalkit.scripted.ratelimit import InFlight
from evalkit.scripted.script import Script, Scripter


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; auth headers are never kept."""

    path: str
    wire: str | None
    body: Any
    context: dict[str, str] = field(default_factory=dict)
    #: status sent back; None when the connection was dropped without a reply
    status: int | None = None
    fault: str | None = None
    rule: int | None = None


class ServerState:
    """The script being served and what serving it has accumulated (thread-safe log)."""

    def __init__(self, script: Script, profile: _profiles.Profile | None) -> None:
        self.script = script
        self.profile = profile
        self.prompt_cache = _profiles.PromptCache()
        self.scripter = Scripter(script)
        self.in_flight = InFlight(script.rate_limit)
        #: the batches submitted to this server (both providers' batch APIs)
        self.batches = BatchStore(
            self.scripter, script.batch_delay_ms, script.batch_create_delay_ms
        )
        #: set while the server stops: requests still hanging are released at once
        self.stopping = threading.Event()
        self._log: list[RecordedRequest] = []
        self._log_lock = threading.Lock()

    def record(self, entry: RecordedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)

    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._log_lock:
            return list(self._log)
