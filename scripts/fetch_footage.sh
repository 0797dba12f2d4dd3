#!/usr/bin/env bash
# Ordinary real footage for the tests, taken from Debian packages once (no install, no root:
# `apt-get download` and the one file pulled out of the package):
#   vtest.avi  (opencv-doc: people walking, one shot, no sound)
#   diver.mov  (pd-extendedview: a diver, one shot, with sound)
#   movie.avi  (kphotoalbum: a short clip with speech)
# into ${PHAR_FOOTAGE:-~/.cache/phar/footage}. Never fatal: a test whose file is missing is
# skipped and says which package would have given it.
set -uo pipefail
FOOTAGE="${PHAR_FOOTAGE:-${XDG_CACHE_HOME:-$HOME/.cache}/phar/footage}"
mkdir -p "$FOOTAGE" || exit 0
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || exit 0
updated=0
download() {  # into the current folder; the package lists are refreshed once if that fails
  apt-get download -q "$1" >/dev/null 2>&1 && return 0
  [[ $updated == 1 ]] && return 1
  updated=1
  apt-get update -qq >/dev/null 2>&1 && apt-get download -q "$1" >/dev/null 2>&1
}
while read -r package member; do
  name="$(basename "$member")"
  [[ -s "$FOOTAGE/$name" ]] && continue
  tmp="$(mktemp -d)"
  cd "$tmp" || continue
  download "$package"; got=$?
  cd - >/dev/null || exit 0
  if [[ $got == 0 ]] && dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" "./$member" 2>/dev/null; then
    mv "$tmp/$member" "$FOOTAGE/$name.part" && mv "$FOOTAGE/$name.part" "$FOOTAGE/$name"
  else
    echo "[phar tests] could not fetch $name from Debian's $package: its tests are skipped" >&2
  fi
  rm -rf "$tmp"
done <<'LIST'
opencv-doc usr/share/doc/opencv-doc/examples/data/vtest.avi
pd-extendedview usr/share/doc/pd-extendedview/media/diver.mov
kphotoalbum usr/share/kphotoalbum/demo/movie.avi
LIST
exit 0
