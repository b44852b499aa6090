"""``python -m evalkit.scripted SCRIPT [--port N]``: serve a script until interrupted.

Prints the base URL on its first line, so another process (a benchmark, a test of your own,
an app under development) can point an SDK client at it.
"""

from __future__ import annotations

import argparse
import sys
import threading

from evalkit.scripted import ScriptedServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evalkit.scripted", description=__doc__)
    parser.add_argument("script", help="script YAML file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = ScriptedServer(args.script, host=args.host, port=args.port).start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
