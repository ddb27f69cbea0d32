#!/usr/bin/env bash
# Installs what Leones needs on a fresh Debian machine, and nothing when it is there:
# LLVM 19's development files (the backend links libLLVM-19 dynamically through
# inkwell) and a C++ compiler (the backend's few lines of C++ against LLVM's C++ API,
# backend-llvm/cpp/). Idempotent; `make demo` and `make test` call it first.
set -euo pipefail
LLVM_PREFIX=${LLVM_SYS_191_PREFIX:-/usr/lib/llvm-19}
PACKAGES=()
if ! { [ -x "$LLVM_PREFIX/bin/llvm-config" ] && [ -e "$LLVM_PREFIX/include/llvm-c/Core.h" ]; }; then
  # libpolly/zstd/zlib: llvm-config --system-libs names them even for dynamic linking.
  PACKAGES+=(llvm-19-dev libpolly-19-dev libzstd-dev zlib1g-dev)
fi
if ! command -v c++ >/dev/null 2>&1; then
  PACKAGES+=(g++)
fi
if [ ${#PACKAGES[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${PACKAGES[*]} (Debian packages)..." >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to install ${PACKAGES[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
"$LLVM_PREFIX/bin/llvm-config" --version >/dev/null
command -v c++ >/dev/null
