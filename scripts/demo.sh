#!/usr/bin/env bash
# README command 1: set up, then run the whole pipeline on the built-in synthetic default:
# synthesise scans -> train -> evaluate -> export ONNX -> station inference -> HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh train
exec .venv/bin/wildxray demo "$@"
