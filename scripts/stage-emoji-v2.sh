#!/usr/bin/env bash
# Stage the emoji v2 base (run's pipeline + CLIP) as models/staging/emoji-v2, fp16, sharing the shipped VAEs:
#   scripts/stage-emoji-v2.sh [RUN_PIPELINE]
# or a student of it (unet + scheduler; text encoder, tokenizer and light VAE are the base's):
#   scripts/stage-emoji-v2.sh student RUN_PIPELINE NAME CONFIG      e.g. ... runs/distill-emoji-v2-8/pipeline distill-8
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
S=models/staging/emoji-v2

# index SRC DST NOTE DIRS_JSON: the run's model_index.json with our note and component folders; a run's absolute
# _mdx_teacher path becomes the staged base
index() {
  python3 - "$@" <<'PY'
import json, sys
src, dst, note, dirs = sys.argv[1:5]
m = json.load(open(src))
m["_mdx"] = note
if "_mdx_teacher" in m:
    m["_mdx_teacher"] = "../.. (the staged base)"
m["_mdx_component_dirs"] = json.loads(dirs)
json.dump(m, open(dst, "w"), indent=2)
open(dst, "a").write("\n")
PY
}

if [ "${1:-}" = student ]; then
  T=$S/students/$3
  rm -rf "$T"; mkdir -p "$T"
  cp -r "$2/unet" "$2/scheduler" "$T/"
  index "$2/model_index.json" "$T/model_index.json" "a student of the staged emoji v2 base ($4); see docs/TRAINING.md" \
      '{"text_encoder": "../../text_encoder", "tokenizer": "../../tokenizer", "vae": "../../vae_light"}'
  du -sh "$T"; exit 0
fi
RUN=${1:-runs/unet-emoji-v2-warm/pipeline}
# replaces the base's parts only: students staged earlier stay (they were made from the old base: say so)
rm -rf $S/{unet,scheduler,tokenizer,vae,vae_light,text_encoder,clip,model_index.json}; mkdir -p $S
[ -d $S/students ] && echo "note: $S/students holds students of the previous base; retrain them" >&2
cp -r $RUN/unet $RUN/scheduler $RUN/tokenizer $S/
cp -r models/emoji/vae models/emoji/vae_light $S/
./mdx convert runs/clip-emoji-v2/text_encoder $S/text_encoder
./mdx convert runs/clip-emoji-v2/clip $S/clip
cp models/emoji/clip/labels.txt $S/clip/
index "$RUN/model_index.json" "$S/model_index.json" "emoji v2 base, staged (not yet the default model): trained by mdx \
train unet (configs/unet-emoji-v2-warm.json, warm-started from the shipped emoji UNet) on the v2 captions with the v2 \
CLIP's text tower (configs/clip/emoji-clip-v2.json); see docs/TRAINING.md" '{"vae": "vae_light"}'
du -sh $S
