#!/usr/bin/env bash
# Packs the header-only libraries a CUDA build of gtrm needs into one folder (default .gpu-deps/ in the checkout,
# ignored by git), for a GPU machine that has the CUDA toolkit, CMake and a C++ compiler but no package manager
# access. Run it on a Debian/Ubuntu machine where scripts/install-deps.sh has run; it copies the installed files of
# these packages (headers and CMake package files, no docs), which are relocatable, to DIR/usr:
#   libeigen3-dev nlohmann-json3-dev libxtensor-dev xtl-dev doctest-dev libcli11-dev      (about 14 MB)
# scripts/gpu-check.sh picks DIR up by itself (CMAKE_PREFIX_PATH) when the machine lacks the packages.
# Nothing else is needed there: OpenBLAS and OpenMP are optional (the CPU reference then uses Eigen's GEMMs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.gpu-deps}
packages=(libeigen3-dev nlohmann-json3-dev libxtensor-dev xtl-dev doctest-dev libcli11-dev)
mkdir -p "$dest"
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "gpu-deps: $p is not installed here (run scripts/install-deps.sh first)" >&2
    exit 1
  fi
  dpkg -L "$p" | while read -r f; do
    case "$f" in /usr/share/doc/*|/usr/share/man/*|/usr/share/lintian/*) continue ;; esac
    if [ -f "$f" ] && [ ! -L "$f" ]; then
      mkdir -p "$dest$(dirname "$f")"
      cp -p "$f" "$dest$f"
    fi
  done
done
echo "gpu-deps: $(du -sh "$dest" | cut -f1) in $dest (${packages[*]})"
