"""results.jsonl benchmark: appending records (one unbuffered write each) and reading them back
with the latest-record-per-(case, repeat) rule, for ordinary text and text with lone surrogates
(the slower, escaped path). Figures, not pass/fail.

    python benchmarks/bench_store.py [--records 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord, Usage
from evalkit.storage.store import ResultsWriter, read_records

REPLY = '{"answer": "Orders over 7 days late are refundable.", "citations": ["pol-1"]}'


def _records(n: int, text: str) -> list[CaseRecord]:
    return [
        CaseRecord(
            case_id=f"case-{i:05d}",
            outcome=Outcome.PASS,
            output=text,
            vars={"question": f"question {i}"},
            usage=Usage(input_tokens=120, output_tokens=40),
            latency_ms=51.2,
        )
        for i in range(n)
    ]


def _measure(label: str, records: list[CaseRecord]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        started = time.perf_counter()
        with ResultsWriter(path) as writer:
            for record in records:
                writer.append(record)
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        back = read_records(path)
        read = time.perf_counter() - started
    assert len(back) == len(records)
    n = len(records)
    print(
        f"{label:<16} append {wrote / n * 1e6:6.1f} us/record ({n / wrote:8.0f}/s); "
        f"read back {read / n * 1e6:6.1f} us/record ({n / read:8.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    n = parser.parse_args().records
    _measure("ordinary text", _records(n, REPLY))
    _measure("lone surrogates", _records(n, REPLY + " \ud800"))


if __name__ == "__main__":
    main()
