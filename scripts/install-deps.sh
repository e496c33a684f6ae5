#!/usr/bin/env bash
# Installs the Debian packages gtrm needs to build and test. Idempotent: packages already present are
# skipped and nothing is downloaded when everything is there. Needs root or sudo for apt-get.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang libomp-dev
  libclang-rt-dev        # clang's sanitizer and libFuzzer runtimes (tests/fuzz, the sanitizer build in .ci/run)
  libeigen3-dev          # CPU backend
  libopenblas-openmp-dev # CPU backend GEMMs (the OpenMP build of OpenBLAS)
  libdnnl-dev            # CPU bf16 products (oneDNN: AMX / AVX512-BF16 dispatch)
  libxtensor-dev         # .npy datasets
  doctest-dev            # tests
  libbenchmark-dev       # benchmarks
  libcli11-dev           # the gtrm command line
  nlohmann-json3-dev     # JSON, safetensors headers
  libopenmpi-dev         # data-parallel training over MPI (GTRM_ENABLE_MPI)
  openmpi-bin            # mpirun, for the 2-rank test
  pkg-config             # finds libzip and yaml-cpp
  libzip-dev             # PyTorch checkpoints: the zip container (io/torch_checkpoint.hpp)
  libyaml-cpp-dev        # PyTorch checkpoints: the official code's all_config.yaml (gtrm import/export)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
