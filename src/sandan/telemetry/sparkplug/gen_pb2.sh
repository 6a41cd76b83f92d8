#!/usr/bin/env bash
# Regenerate sparkplug_b_pb2.py / .pyi from sparkplug_b.proto. grpcio-tools is pulled in for
# this run only (`uv run --with`), it is not a project dependency: the runtime needs only
# `protobuf`. The generated files are excluded from ruff and mypy in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")"
uv run --with grpcio-tools python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. \
  sparkplug_b.proto
note="# Generated from sparkplug_b.proto by gen_pb2.sh:
#   uv run --with grpcio-tools python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. sparkplug_b.proto
# DO NOT EDIT: change the .proto and rerun gen_pb2.sh."
for f in sparkplug_b_pb2.py sparkplug_b_pb2.pyi; do
  { printf '%s\n' "$note"; cat "$f"; } >"$f.tmp" && mv "$f.tmp" "$f"
done
