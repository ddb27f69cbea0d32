#!/usr/bin/env bash
# Installs what Leones needs on a fresh Debian machine, and nothing when it is there:
# LLVM 19's development files (the backend links libLLVM-19 dynamically through
# inkwell). Idempotent; `make demo` and `make test` call it first.
set -euo pipefail
LLVM_PREFIX=${LLVM_SYS_191_PREFIX:-/usr/lib/llvm-19}
if [ -x "$LLVM_PREFIX/bin/llvm-config" ] && [ -e "$LLVM_PREFIX/include/llvm-c/Core.h" ]; then
  exit 0
fi
echo "setup: installing llvm-19-dev (LLVM 19 from Debian)..." >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to install llvm-19-dev" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# libpolly/zstd/zlib: llvm-config --system-libs names them even for dynamic linking.
$SUDO apt-get install -y -qq llvm-19-dev libpolly-19-dev libzstd-dev zlib1g-dev >/dev/null
"$LLVM_PREFIX/bin/llvm-config" --version >/dev/null
