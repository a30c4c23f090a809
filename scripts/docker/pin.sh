#!/usr/bin/env bash
# Prints the digests that Dockerfile.cuda's base images' tags name today,
# as the ARG lines to put in Dockerfile.cuda (or --build-arg flags).
# Needs Docker with buildx and access to the registry:
#
#   scripts/docker/pin.sh            # print the ARG lines
#   scripts/docker/pin.sh --write    # rewrite them in Dockerfile.cuda
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v docker >/dev/null || { echo "pin.sh: docker is not installed" >&2; exit 1; }
lines=()
for arg in GO_IMAGE CUDA_DEVEL CUDA_BASE; do
	ref=$(sed -n "s/^ARG $arg=//p" Dockerfile.cuda)
	tag=${ref%@*}
	digest=$(docker buildx imagetools inspect "$tag" --format '{{json .Manifest.Digest}}' | tr -d '"')
	case $digest in sha256:*) ;; *) echo "pin.sh: no digest for $tag: $digest" >&2; exit 1 ;; esac
	lines+=("ARG $arg=$tag@$digest")
done
printf '%s\n' "${lines[@]}"
if [ "${1-}" = --write ]; then
	for l in "${lines[@]}"; do
		arg=${l#ARG }
		arg=${arg%%=*}
		sed -i "s|^ARG $arg=.*|${l//|/\\|}|" Dockerfile.cuda
	done
	echo "pin.sh: Dockerfile.cuda updated" >&2
fi
