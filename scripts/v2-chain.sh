#!/usr/bin/env bash
# Issue 17 (items 3-4): the chain of runs that makes a model on the v2 captions, each stage resumable, all run from a
# jar snapshot outside target/ so rebuilds of the worktree do not break them (docs/TRAINING.md, "In progress").
#   scripts/v2-chain.sh snapshot SNAP            copy the built jars (+ train test classes) to SNAP
#   scripts/v2-chain.sh fashion|emoji SNAP       run (or resume) the chain for one model, niced, one engine thread
#   scripts/v2-chain.sh emoji-clip SNAP          only the emoji CLIP and its measurement (then the base with 'emoji')
# Re-running the same command continues every stage from its newest checkpoint; finished stages are skipped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="$1"; SNAP="$(realpath -m "$2")"
if [ "$what" = snapshot ]; then
  mkdir -p "$SNAP"
  cp "$ROOT"/{cli,core,train,serve,export}/target/mdx-*-0.1.0-SNAPSHOT.jar "$SNAP/"
  # the dependency classpath without the reactor's own target/ jars, which a rebuild replaces under a running JVM
  tr ':' '\n' < "$ROOT/cli/target/classpath.txt" | grep -v "^$ROOT/[a-z-]*/target/" | paste -sd: > "$SNAP/classpath.txt"
  rm -rf "$SNAP/test-classes" && cp -r "$ROOT/train/target/test-classes" "$SNAP/test-classes"
  exit 0
fi
CP="$(ls "$SNAP"/mdx-*-0.1.0-SNAPSHOT.jar | paste -sd:):$(cat "$SNAP/classpath.txt")"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# libtorch warns once per small conv that NNPACK does not support this CPU: harmless, filtered as ./mdx does
java_() { nice -n "${NICE:-15}" java -Xmx3g -Dai.djl.offline=true -Dmdx.home="$ROOT" "$@" \
    2> >(grep --line-buffered -v 'Could not initialize NNPACK' >&2); }
mdx() { java_ -cp "$CP" dev.mdx.cli.Main "$@"; }
# measure OUT.txt ARGS...: written only when the measurement finishes
measure() { local out="$1"; shift; java_ -cp "$SNAP/test-classes:$CP" dev.mdx.train.eval.PromptVocabularyMeasure "$@" \
    > "$out.tmp" && mv "$out.tmp" "$out"; }
cd "$ROOT"
R=runs
case "$what" in
  fashion)
    [ -d $R/clip-fashion-v2/clip ] || mdx train clip -c configs/clip/fashion-clip-v2.json -o $R/clip-fashion-v2 -t 1 --resume
    [ -f $R/measure-clip-fashion-v2.txt ] || measure $R/measure-clip-fashion-v2.txt \
        clip $R/clip-fashion-v2/clip /work/data-cache/fashion-mnist-v2 500 3000
    [ -d $R/unet-fashion-v2/pipeline ] || mdx train unet -c configs/unet-fashion-v2.json -o $R/unet-fashion-v2 -t 1 --resume
    [ -f $R/measure-gen-fashion-v2.txt ] || measure $R/measure-gen-fashion-v2.txt \
        generate $R/unet-fashion-v2/pipeline models/fashion/classifier /work/data-cache/fashion-mnist-v2 4 20 4
    ;;
  emoji|emoji-clip)
    [ -d $R/clip-emoji-v2/clip ] || mdx train clip -c configs/clip/emoji-clip-v2.json -o $R/clip-emoji-v2 -t 1 --resume
    [ -f $R/measure-clip-emoji-v2.txt ] || measure $R/measure-clip-emoji-v2.txt \
        clip $R/clip-emoji-v2/clip /work/data-cache/emoji-v2 500 0
    [ "$what" = emoji-clip ] && exit 0
    NICE=19 mdx train unet -c configs/unet-emoji-v2.json -o $R/unet-emoji-v2 -t 1 --resume
    ;;
  *) echo "usage: $0 snapshot|fashion|emoji|emoji-clip SNAP" >&2; exit 2 ;;
esac
