#!/usr/bin/env bash
# Builds the localcases container image (Containerfile) with podman, or with
# docker when podman is absent. The binary is compiled here, static, and
# copied in: the build downloads nothing and needs no base image.
#
#   scripts/container-build.sh                 # image localcases:dev
#   scripts/container-build.sh --tag NAME      # another name
#   scripts/container-build.sh --context DIR   # only assemble the build context in DIR
#
# LOCALCASES_CONTAINER_TOOL=docker picks the tool; GOARCH cross-compiles.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=localcases:dev
ctx=
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --context) ctx=$2; shift 2 ;;
    *) echo "usage: $0 [--tag NAME] [--context DIR]" >&2; exit 2 ;;
  esac
done

only_context=true
if [ -z "$ctx" ]; then
  only_context=false
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
fi
mkdir -p "$ctx"

# CGO_ENABLED=0: no libc to find at run time, which scratch has none of.
# GOTOOLCHAIN=auto: at least the toolchain go.mod names, with its security
# fixes, even where the machine's Go is older (as .ci/run does).
CGO_ENABLED=0 GOOS=linux GOTOOLCHAIN=auto go build -trimpath -ldflags='-s -w' -o "$ctx/localcases" ./cmd/localcases
cp Containerfile "$ctx/Containerfile"
mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/data" "$ctx/tmp"
printf 'root:x:0:0:root:/:/sbin/nologin\nlocalcases:x:65532:65532:localcases:/data:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
printf 'root:x:0:\nlocalcases:x:65532:\n' > "$ctx/rootfs/etc/group"
# The machine's CA bundle, for event sinks reached over HTTPS.
certs=
for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
  if [ -s "$f" ]; then certs=$f; break; fi
done
if [ -n "$certs" ]; then
  cp "$certs" "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
else
  echo "note: no CA bundle found; HTTPS event sinks will not verify in the image" >&2
  : > "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
fi

if $only_context; then
  exit 0
fi

tool=${LOCALCASES_CONTAINER_TOOL:-}
if [ -z "$tool" ]; then
  if command -v podman >/dev/null; then tool=podman
  elif command -v docker >/dev/null; then tool=docker
  else echo "neither podman nor docker is installed" >&2; exit 1
  fi
fi
format=()
# podman writes OCI images by default, which have no HEALTHCHECK.
if [ "$tool" = podman ]; then format=(--format docker); fi
"$tool" build "${format[@]}" -f "$ctx/Containerfile" -t "$tag" "$ctx"
echo "built $tag with $tool"
