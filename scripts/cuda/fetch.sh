#!/usr/bin/env bash
# fetch.sh: get the CUDA 11.8 build files from Debian bookworm's non-free
# archive without installing anything, and print the environment to use them.
#
#   eval "$(scripts/cuda/fetch.sh)"     # exports CUDA_ROOT, CGO_CFLAGS, CGO_LDFLAGS, PATH
#
# It downloads nvidia-cuda-dev and nvidia-cuda-toolkit with `apt-get download`
# through a private apt configuration (the system's sources are left alone),
# and extracts only:
#   - cuda.h and the stub libcuda.so       (build and link the cuda-tagged worker)
#   - nvcc, cicc, libdevice, ptxas, the CUDA include tree
#                                          (regenerate the PTX and check it for sm_90)
# into ${CUDA_ROOT:-$HOME/.cache/movierec-cuda}. A second run finds the stamp
# file and only prints the environment. Logs go to stderr, the exports to stdout.
set -euo pipefail

root=${CUDA_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/movierec-cuda}
suite=${CUDA_DEBIAN_SUITE:-bookworm}
mirror=${CUDA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${CUDA_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
tree=$root/tree
stamp=$tree/.complete-v2

log() { printf 'fetch.sh: %s\n' "$*" >&2; }

print_env() {
	cat <<ENV
export CUDA_ROOT='$root'
export CGO_CFLAGS='-I$root/cgo/include'
export CGO_LDFLAGS='-L$root/cgo/lib'
export PATH="\$PATH":'$tree/usr/lib/nvidia-cuda-toolkit/bin:$tree/usr/bin'
ENV
}

if [ -f "$stamp" ]; then
	log "already extracted in $tree"
	print_env
	exit 0
fi

for tool in apt-get dpkg-deb tar; do
	command -v "$tool" >/dev/null || { log "missing $tool (Debian/Ubuntu host needed)"; exit 1; }
done

mkdir -p "$root/apt/lists/partial" "$root/apt/cache/archives/partial" "$root/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[ -f "$keyring" ] && signed=" [signed-by=$keyring]"
cat >"$root/apt/sources.list" <<SRC
deb$signed $mirror $suite main contrib non-free
deb$signed $mirror $suite-updates main contrib non-free
deb$signed $security $suite-security main contrib non-free
SRC

apt_opts=(
	-o "Dir::Etc::SourceList=$root/apt/sources.list"
	-o "Dir::Etc::SourceParts=/nonexistent"
	-o "Dir::State::Lists=$root/apt/lists"
	-o "Dir::Cache=$root/apt/cache"
	-o "Dir::State::Status=/dev/null"
	-o "APT::Sandbox::User=$(id -un)"
	-o "Debug::NoLocking=1"
	-q
)

debs_present() {
	ls "$root"/debs/nvidia-cuda-dev_*.deb "$root"/debs/nvidia-cuda-toolkit_*.deb >/dev/null 2>&1
}

if ! debs_present; then
	log "apt-get update (private lists in $root/apt)"
	apt-get "${apt_opts[@]}" update >&2
	log "apt-get download nvidia-cuda-dev nvidia-cuda-toolkit (about 860 MB)"
	(cd "$root/debs" && apt-get "${apt_opts[@]}" download nvidia-cuda-dev nvidia-cuda-toolkit >&2)
fi
debs_present || { log "download failed"; exit 1; }

dev_deb=$(ls "$root"/debs/nvidia-cuda-dev_*.deb | tail -n1)
tk_deb=$(ls "$root"/debs/nvidia-cuda-toolkit_*.deb | tail -n1)

rm -rf "$tree.tmp"
mkdir -p "$tree.tmp"
log "extracting from $(basename "$dev_deb")"
dpkg-deb --fsys-tarfile "$dev_deb" | tar -x -C "$tree.tmp" \
	--wildcards './usr/include/*' './usr/lib/x86_64-linux-gnu/stubs/libcuda.so'
log "extracting from $(basename "$tk_deb")"
dpkg-deb --fsys-tarfile "$tk_deb" | tar -x -C "$tree.tmp" \
	--wildcards './usr/lib/nvidia-cuda-toolkit/bin/*' './usr/lib/nvidia-cuda-toolkit/libdevice/*' \
	'./usr/bin/ptxas' './usr/bin/fatbinary' './usr/bin/nvlink' './usr/bin/cuobjdump' './usr/bin/nvdisasm'

# Debian's bin/gcc and bin/g++ wrappers look for gcc-11..gcc-6; drop them so
# nothing on PATH shadows the host gcc that cgo and `nvcc -ccbin gcc` use.
rm -f "$tree.tmp/usr/lib/nvidia-cuda-toolkit/bin/gcc" "$tree.tmp/usr/lib/nvidia-cuda-toolkit/bin/g++"

# nvcc.profile is a symlink to /etc/nvcc.profile with absolute paths; replace
# it with a relocatable one (CUDA-NOTES.md §2).
profile=$tree.tmp/usr/lib/nvidia-cuda-toolkit/bin/nvcc.profile
rm -f "$profile"
cat >"$profile" <<'PROFILE'
TOP = $(_HERE_)/../../../..
NVVMIR_LIBRARY_DIR = $(TOP)/usr/lib/nvidia-cuda-toolkit/libdevice
PATH += $(_HERE_):$(TOP)/usr/bin:
INCLUDES += "-I$(TOP)/usr/include" $(_SPACE_)
LIBRARIES =+ $(_SPACE_) "-L$(TOP)/usr/lib/x86_64-linux-gnu/stubs" "-L$(TOP)/usr/lib/x86_64-linux-gnu"
PROFILE

rm -rf "$tree"
mv "$tree.tmp" "$tree"

# Minimal cgo view: just cuda.h and the stub libcuda.so, so the system's own
# headers are never shadowed by the CUDA include tree.
rm -rf "$root/cgo"
mkdir -p "$root/cgo/include" "$root/cgo/lib"
cp "$tree/usr/include/cuda.h" "$root/cgo/include/"
cp "$tree/usr/lib/x86_64-linux-gnu/stubs/libcuda.so" "$root/cgo/lib/"

echo "$(basename "$dev_deb") $(basename "$tk_deb")" >"$stamp"
log "done: $(du -sh "$tree" | cut -f1) in $tree (the .debs stay in $root/debs; delete them to save space)"
print_env
