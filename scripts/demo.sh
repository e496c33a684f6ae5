#!/usr/bin/env bash
# The README's first command. Installs what is missing, builds the gtrm program, and runs every golden file of
# the reference implementation through it: the model, its ACT loop and its gradients, checked number for number.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build --target gtrm_cli -j "$(nproc)"
for f in tests/data/golden/{a_rope,b_mlpt_sudoku,c_learned_pos,d_no_puzzle_emb,e_batch1}.safetensors; do
  ./build/tools/gtrm verify-reference "$f" | tail -1 | sed "s|^|$(basename "$f"): |"
done
