#!/usr/bin/env bash
# The README's step-count comparison: the same prompts and seeds with the base model at 50 and 1 DDIM steps,
# the distilled student at 8 and the UFOGen student at 1 step, tiled into docs/results/steps/MODEL.png.
# Run from the repository root after building (./mdx builds on first use): docs/results/steps/make-grid.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=docs/results/steps
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
grid() {
  local model=$1; shift
  local prompts=("$@")
  local rows=()
  for setting in "50 steps (base, CFG)|--steps 50" "8 steps (distilled, CFG)|--steps 8" \
      "1 step (UFOGen)|--steps 1" "1 step (base, CFG)|--steps 1 --no-student"; do
    local label=${setting%%|*} flags=${setting#*|} files=()
    for i in "${!prompts[@]}"; do
      local png="$TMP/$model-${flags// /_}-$i.png"
      # shellcheck disable=SC2086
      ./mdx generate -m "$model" "${prompts[$i]}" $flags -s "$((i + 1))" -t 1 -o "$png" 2>/dev/null >/dev/null
      files+=("$png")
    done
    rows+=("$label=$(IFS=,; echo "${files[*]}")")
  done
  local header
  header=$(IFS='|'; echo "${prompts[*]}")
  java -cp "train/target/test-classes:train/target/classes:core/target/classes:$(cat cli/target/classpath.txt)" \
      dev.mdx.train.eval.ImageTableMain "$OUT/$model.png" "$header" "${rows[@]}"
  echo "wrote $OUT/$model.png"
}
# docs/results/steps/make-grid.sh [emoji|fashion]: one model's grid, or both
only="${1:-}"
if [ -z "$only" ] || [ "$only" = emoji ]; then
  grid emoji "a red apple" "banana, noto style" "watermelon, twemoji style" "red heart" "sun, noto emoji" "carrot"
fi
if [ -z "$only" ] || [ "$only" = fashion ]; then
  grid fashion "a photo of a sneaker" "a photo of a dress" "a photo of a bag" "a photo of a trouser" \
      "a photo of an ankle boot" "a photo of a shirt"
fi
