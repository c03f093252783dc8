#!/usr/bin/env bash
# Stage the emoji v2 base (run's pipeline + CLIP) as models/staging/emoji-v2, fp16, sharing the shipped VAEs:
#   scripts/stage-emoji-v2.sh [RUN_PIPELINE]
# or a student of it (unet + scheduler; text encoder, tokenizer and light VAE are the base's):
#   scripts/stage-emoji-v2.sh student RUN_PIPELINE NAME CONFIG      e.g. ... runs/distill-emoji-v2-8/pipeline distill-8
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${1:-}" = student ]; then
  T=models/staging/emoji-v2/students/$3
  rm -rf "$T"; mkdir -p "$T"
  cp -r "$2/unet" "$2/scheduler" "$T/"
  python3 - "$2/model_index.json" "$T/model_index.json" "$4" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["_mdx"] = "a student of the staged emoji v2 base (" + sys.argv[3] + "); see docs/TRAINING.md"
if "_mdx_teacher" in m:
    m["_mdx_teacher"] = "../.. (the staged base)"
m["_mdx_component_dirs"] = {"text_encoder": "../../text_encoder", "tokenizer": "../../tokenizer",
                            "vae": "../../vae_light"}
json.dump(m, open(sys.argv[2], "w"), indent=2)
open(sys.argv[2], "a").write("\n")
PY
  du -sh "$T"; exit 0
fi
RUN=${1:-runs/unet-emoji-v2-warm/pipeline}
S=models/staging/emoji-v2
rm -rf $S; mkdir -p $S
cp -r $RUN/unet $RUN/scheduler $RUN/tokenizer $S/
cp -r models/emoji/vae models/emoji/vae_light $S/
./mdx convert runs/clip-emoji-v2/text_encoder $S/text_encoder
./mdx convert runs/clip-emoji-v2/clip $S/clip
cp models/emoji/clip/labels.txt $S/clip/
python3 - "$RUN/model_index.json" "$S/model_index.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["_mdx"] = ("emoji v2 base, staged (not yet the default model): trained by mdx train unet "
             "(configs/unet-emoji-v2-warm.json, warm-started from the shipped emoji UNet) on the v2 captions with the "
             "v2 CLIP's text tower (configs/clip/emoji-clip-v2.json); see docs/TRAINING.md")
m["_mdx_component_dirs"] = {"vae": "vae_light"}
json.dump(m, open(sys.argv[2], "w"), indent=2)
open(sys.argv[2], "a").write("\n")
PY
du -sh $S
