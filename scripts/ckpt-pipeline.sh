#!/usr/bin/env bash
# A pipeline folder from a UNet training checkpoint's EMA weights, to measure an unfinished run with mdx eval/generate.
#   scripts/ckpt-pipeline.sh CHECKPOINT_DIR UNET_JSON TEXT_DIR VAE_DIR OUT
# UNET_JSON: the run's "unet" config file; TEXT_DIR: a folder with text_encoder/ and tokenizer/ (the CLIP run the base
# trains on); VAE_DIR: the run's "vae" folder. The scheduler is mdx train unet's default (SD's DDIM) with the run's
# prediction_type from RUN/training_config.json, as the run's own export writes it (UNetTraining.SD_SCHEDULER); a run
# with its own "scheduler" file is refused. The weights are copied: the run deletes old checkpoints as it goes.
set -euo pipefail
[ $# -eq 5 ] || { sed -n 2,7p "$0" >&2; exit 2; }
ck=$1 unet=$2 text=$3 vae=$4 out=$5
[ -f "$ck/ema.safetensors" ] || { echo "no ema.safetensors in $ck" >&2; exit 1; }
run_config="$ck/../../training_config.json"
[ -f "$run_config" ] || { echo "no training_config.json two folders above $ck (RUN/checkpoints/step-N)" >&2; exit 1; }
if grep -q '"scheduler"' "$run_config"; then
  echo "$run_config names its own scheduler; this script writes only the default one" >&2; exit 1
fi
prediction=$(sed -n 's/.*"prediction_type" *: *"\([a-z_]*\)".*/\1/p' "$run_config")
prediction=${prediction:-epsilon}
rm -rf "$out.tmp"; mkdir -p "$out.tmp/unet" "$out.tmp/scheduler"
cp "$unet" "$out.tmp/unet/config.json"
cp "$ck/ema.safetensors" "$out.tmp/unet/diffusion_pytorch_model.safetensors"
cp -r "$text/text_encoder" "$text/tokenizer" "$out.tmp/"
cp -r "$vae" "$out.tmp/vae"
cat > "$out.tmp/scheduler/scheduler_config.json" <<'JSON'
{"_class_name": "DDIMScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
 "beta_schedule": "scaled_linear", "clip_sample": false, "set_alpha_to_one": false, "steps_offset": 1,
 "timestep_spacing": "leading", "prediction_type": "PREDICTION"}
JSON
sed -i "s/PREDICTION/$prediction/" "$out.tmp/scheduler/scheduler_config.json"
cat > "$out.tmp/model_index.json" <<'JSON'
{"_class_name": "StableDiffusionPipeline", "_mdx": "a training checkpoint's EMA UNet (scripts/ckpt-pipeline.sh)",
 "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
 "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
 "vae": ["diffusers", "AutoencoderKL"]}
JSON
rm -rf "$out"; mv "$out.tmp" "$out"
echo "wrote $out"
