#!/usr/bin/env bash
# The size of the image deploy/Containerfile makes, measured without a container engine (none runs
# on the development machine, and its registry is out of reach): the same final root filesystem is
# put together from the same parts, run once, and measured (docs/operations.md#container-image).
#
#   bash deploy/measure-image.sh          # prints the sizes; MEASURE_IMAGE_KEEP=1 keeps the tree
#   bash deploy/measure-image.sh --check  # only: is the Containerfile still what is reproduced
#                                         # here (run by .ci/run; no root, no downloads)
#
# The Containerfile's runtime stage is gcr.io/distroless/cc-debian12:nonroot plus two COPY lines.
# That base is not a Debian release image but a set of Debian 12 packages unpacked without
# dpkg's scripts (the distroless project's static, base and cc layers):
#   static  base-files netbase tzdata media-types, CA bundle, passwd/group, /tmp, /home/nonroot
#   base    libc6 libssl3
#   cc      libgcc-s1 libgomp1 libstdc++6 gcc-12-base
# Here the same packages come from Debian 12's archive (apt-get download, this machine being
# Debian 12), are unpacked the same way, and the release binary — built and stripped as the
# build stage does — and the empty /data owned by uid 65532 go on top. The tree is then started
# once with chroot as uid 65532 (the image's user) and /healthz asked, to show that these
# contents are enough to run, before the sizes are printed:
#   - uncompressed: the bytes of the files (what `docker image ls` shows, give or take metadata);
#   - compressed: each layer as a gzip'd tar (gzip -6, the level registries receive), what a
#     pull downloads.
# Needs root (chroot), apt-get, dpkg-deb, curl, gzip, python3. CARGO_TARGET_DIR is honoured;
# MEASURE_IMAGE_BINARY=path measures that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="$(mktemp -d)"
ROOT="$WORK/rootfs"
APP="$WORK/app" # the layer the two COPY lines add
SERVER_PID=""
cleanup() {
  [ -z "$SERVER_PID" ] || { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  if [ -n "${MEASURE_IMAGE_KEEP:-}" ]; then echo "tree kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
# What is put together below must still be what the Containerfile's runtime stage says: its
# base, its two COPY lines and nothing else added, its user and entrypoint.
CONTAINERFILE=deploy/Containerfile
RUNTIME=$(awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END {printf "%s", stage}' "$CONTAINERFILE")
for line in 'FROM gcr.io/distroless/cc-debian12:nonroot' \
  'COPY --from=build /src/target/release/hr-portal /usr/local/bin/hr-portal' \
  'COPY --from=build --chown=nonroot:nonroot /out/data /data' \
  'USER nonroot' 'ENTRYPOINT ["/usr/local/bin/hr-portal"]' 'CMD ["serve"]'; do
  printf '%s\n' "$RUNTIME" | grep -qxF "$line" ||
    { echo "$CONTAINERFILE's runtime stage no longer has: $line (update this script)" >&2; exit 1; }
done
[ "$(printf '%s\n' "$RUNTIME" | grep -cE '^(COPY|ADD|RUN) ')" = 2 ] ||
  { echo "$CONTAINERFILE's runtime stage adds more than this script reproduces" >&2; exit 1; }
if [ "${1:-}" = --check ]; then
  echo "$CONTAINERFILE's runtime stage is what deploy/measure-image.sh reproduces"
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "run as root (the run check uses chroot)" >&2; exit 1; }
grep -q '^VERSION_ID="12"' /etc/os-release ||
  { echo "needs a Debian 12 machine, to download Debian 12's packages" >&2; exit 1; }

# The build stage: `cargo build --release --locked` and `strip`.
BINARY="${MEASURE_IMAGE_BINARY:-}"
if [ -z "$BINARY" ]; then
  TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
  CARGO_TARGET_DIR="$TARGET" cargo build --release --locked --quiet
  BINARY="$TARGET/release/hr-portal"
fi
mkdir -p "$APP/usr/local/bin" "$APP/data"
strip -o "$APP/usr/local/bin/hr-portal" "$BINARY"
chown 65532:65532 "$APP/data"

# The base: the distroless package set for debian12 (see above), unpacked without scripts.
PACKAGES=(base-files netbase tzdata media-types libc6 libssl3 libgcc-s1 libgomp1 libstdc++6 gcc-12-base)
mkdir -p "$WORK/debs" "$ROOT"
# As root into a private folder: apt's download sandbox user could not write there.
(cd "$WORK/debs" && apt-get download -qq -o APT::Sandbox::User=root "${PACKAGES[@]}" ca-certificates)
for package in "${PACKAGES[@]}"; do
  deb=$(ls "$WORK/debs/${package}"_*.deb)
  dpkg-deb -x "$deb" "$ROOT"
  # distroless records each package for scanners in dpkg's status.d format.
  mkdir -p "$ROOT/var/lib/dpkg/status.d"
  dpkg-deb -f "$deb" >"$ROOT/var/lib/dpkg/status.d/$package"
done
# Of ca-certificates only the bundle and its copyright (no update script, no per-file certs).
dpkg-deb -x "$(ls "$WORK"/debs/ca-certificates_*.deb)" "$WORK/ca"
mkdir -p "$ROOT/etc/ssl/certs" "$ROOT/usr/share/doc/ca-certificates"
cat "$WORK"/ca/usr/share/ca-certificates/*/*.crt >"$ROOT/etc/ssl/certs/ca-certificates.crt"
cp "$WORK/ca/usr/share/doc/ca-certificates/copyright" "$ROOT/usr/share/doc/ca-certificates/"
# The users, /tmp and the nonroot home, as distroless writes them.
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
install -d -m 1777 "$ROOT/tmp"
install -d -m 0700 -o 65532 -g 65532 "$ROOT/home/nonroot"
BASE_BYTES=$(du -sb "$ROOT" | cut -f1)
BASE_GZ=$(tar -C "$ROOT" --numeric-owner -cf - . | gzip -6 | wc -c)
APP_BYTES=$(du -sb "$APP" | cut -f1)
APP_GZ=$(tar -C "$APP" --numeric-owner -cf - . | gzip -6 | wc -c)
cp -a "$APP/." "$ROOT/"

CHROOT=$(command -v chroot)
# The run check: the image's entrypoint, user, working directory and environment, on a free port.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# chroot gives no /dev; Rust and SQLite use getrandom(2) and need nothing from it.
env -i ROCKET_PROFILE=release ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$PORT" ROCKET_DATA_DIR=/data \
  ROCKET_LOG_FORMAT=json "$CHROOT" --userspec=65532:65532 "$ROOT" \
  /bin/sh -c 'exit 0' 2>/dev/null && { echo "the tree has a shell: it is not the distroless set" >&2; exit 1; }
(cd / && env -i ROCKET_PROFILE=release ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$PORT" \
  ROCKET_DATA_DIR=/data ROCKET_LOG_FORMAT=json \
  "$CHROOT" --userspec=65532:65532 "$ROOT" /usr/local/bin/hr-portal serve >"$WORK/run.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null ||
  { echo "the binary did not serve from the image tree:" >&2; cat "$WORK/run.log" >&2; exit 1; }
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""

mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "hr-portal container image (deploy/Containerfile), built without an engine on $(date -u +%Y-%m-%d):"
echo "| Layer | files | gzip'd tar |"
echo "|---|---|---|"
echo "| distroless cc-debian12 equivalent (${#PACKAGES[@]} Debian 12 packages + CA bundle, users) | $(mib "$BASE_BYTES") | $(mib "$BASE_GZ") |"
echo "| hr-portal binary (stripped) and /data | $(mib "$APP_BYTES") | $(mib "$APP_GZ") |"
echo "| **image** | **$(mib $((BASE_BYTES + APP_BYTES)))** | **$(mib $((BASE_GZ + APP_GZ)))** |"
echo "Served /healthz from the tree as uid 65532; packages: $(cd "$WORK/debs" && ls ./*.deb | sed 's|^\./||; s|_amd64.deb||; s|_all.deb||' | paste -sd' ')"
