"""One error tree for evalkit, so callers can catch precisely what they can handle.

EvalkitError
├── InputError            bad config, golden set, prompt, judge or label file; CLI exit 2.
│                         Carries ``path``, ``line`` and ``field`` so the message points at the fix.
│   └── TemplateError     a prompt/check template could not render (missing variable, syntax).
├── ProviderError         a model call failed after evalkit's retry policy; recorded per case as
│   │                     an *error* outcome, never as a pass or fail.
│   └── AuthError         401/403: the run stops at once instead of failing every case.
├── RunAborted            the run could not be completed (error budget exceeded, interrupted);
│   │                     CLI exit 3.
│   ├── RunInterrupted    Ctrl-C or SIGTERM: finished cases are kept, the run can be resumed.
│   └── StorageError      a run file could not be written (full disk); names the file.
├── RunLocked             another process is writing that run (a second --resume); CLI exit 2.
├── CacheError            `evalkit cache prune` could not finish (write lock held past the
│                         timeout, full disk); CLI exit 3. Runs never raise it: a broken cache
│                         only warns there.
└── GateFailed            a comparison gate failed; CLI exit 1.

Messages never include API keys or auth headers (see ``evalkit.base.redact``).
"""

from __future__ import annotations

from pathlib import Path


class EvalkitError(Exception):
    """Base of every error evalkit raises on purpose."""

    exit_code: int = 2


class InputError(EvalkitError):
    """Bad user input: names the file, line and field, and maps to exit code 2."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class TemplateError(InputError):
    """A Jinja2 template could not be rendered for a case."""


class ProviderError(EvalkitError):
    """A model call that failed; ``kind`` is a stable short label used in reports.

    kinds: ``rate_limit``, ``server``, ``overloaded``, ``unavailable`` (503), ``timeout``,
    ``connection``, ``auth``, ``bad_request``, ``context_length`` (a 400: the prompt does not
    fit), ``too_large`` (413), ``unprocessable`` (422), ``malformed``, ``not_found``,
    ``callable``, ``other``.
    """

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        kind: str = "other",
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.message = message
        self.kind = kind
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        #: how many requests were made before giving up (set by the retry policy)
        self.attempts = attempts
        super().__init__(message)

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{self.kind}{status}: {self.message}"


class AuthError(ProviderError):
    """Credentials were refused; retrying or continuing the run cannot help."""


class RunAborted(EvalkitError):
    """The run stopped before finishing; what was done is kept and can be resumed."""

    exit_code = 3


class RunInterrupted(RunAborted):
    """Ctrl-C or SIGTERM stopped the run; what finished is kept and can be resumed."""


class StorageError(RunAborted):
    """A run file could not be written (usually a full disk); ``path`` names it."""

    def __init__(self, message: str, *, path: str | Path, errno: int | None = None) -> None:
        self.path = str(path)
        self.errno = errno
        super().__init__(message)

    @classmethod
    def from_os(cls, exc: OSError, path: str | Path) -> StorageError:
        import errno as errnos

        full = exc.errno in (errnos.ENOSPC, errnos.EDQUOT)
        why = "no space left on device" if full else (exc.strerror or str(exc))
        return cls(f"cannot write {path}: {why}", path=path, errno=exc.errno)


class RunLocked(EvalkitError):
    """Another live process holds the run's lock: one writer per run. CLI exit 2 (bad usage)."""

    exit_code = 2


class CacheError(EvalkitError):
    """The response cache could not be pruned; what was removed before stays removed."""

    exit_code = 3


class GateFailed(EvalkitError):
    """A gate rule failed."""

    exit_code = 1
