#!/usr/bin/env bash
# Makes the container image's base file system, offline, from this Debian build machine (no registry is
# reachable here, so no base image can be pulled; distribution/README.md says why and what that means):
#
#   opt/java/        a Java 17 runtime, jlinked from the JDK that runs the build (only the modules the node uses)
#   bash, coreutils  the launcher's shell and the commands it (and an operator in the container) uses
#   the libraries    every file of the Debian packages that own the shared libraries these, the runtime and
#                    ONNX Runtime's native library link to: libc6, libstdc++6, zlib1g…
#                    (their copyright files kept, their manuals and translations not)
#   etc/…, tmp/, var/lib/ct-triage/   from src/image/root: the users, name service order, the node's
#                    container configuration; the data folder (the image's volume)
#
# usage: make-image-root.sh OUT JAVA_HOME DISTRIBUTION_DIR ROOT_FILES
set -euo pipefail
out=$1 java_home=$2 distribution=$3 root_files=$4

# The node's modules: java.se (DICOM, SQL, XML, HTTP client, JMX…) and the JDK's own modules it loads:
# the HTTP server (health, metrics), EC and the character sets (TLS; DICOM's ISO 2022 sets), Micrometer's
# process metrics, JFR, sun.misc.Unsafe (HAPI, Caffeine), zip file systems and DNS lookups.
modules=java.se,jdk.httpserver,jdk.crypto.ec,jdk.charsets,jdk.management,jdk.jfr,jdk.net,jdk.unsupported,jdk.zipfs,jdk.naming.dns,jdk.localedata

rm -rf "$out"
mkdir -p "$out"
"$java_home/bin/jlink" --add-modules "$modules" --output "$out/opt/java" \
  --strip-debug --no-man-pages --no-header-files --compress=2
# Debian's JDK links its trust store to /etc/ssl/certs/java/cacerts (ca-certificates-java): give the runtime a copy.
cacerts="$(readlink -f "$java_home/lib/security/cacerts")"
if [ -f "$cacerts" ]; then
  rm -f "$out/opt/java/lib/security/cacerts"
  cp "$cacerts" "$out/opt/java/lib/security/cacerts"
fi

# What links to what (ONNX Runtime's JNI library finds libonnxruntime.so itself, beside it, when it is unpacked): the runtime's native libraries (not the desktop ones: the node runs headless, and a
# missing library of an unused .so is never loaded), ONNX Runtime's, bash's and coreutils'.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
onnxruntime_jar="$(ls "$distribution"/lib/onnxruntime*.jar | head -1)"
(cd "$scratch" && "$java_home/bin/jar" xf "$onnxruntime_jar" ai/onnxruntime/native/linux-x64)
shell_packages=(bash coreutils)
objects=("$scratch"/ai/onnxruntime/native/linux-x64/*.so)
while IFS= read -r executable; do
  objects+=("$executable")
done < <(dpkg -L "${shell_packages[@]}" | grep '/bin/' | while IFS= read -r f; do [ -f "$f" ] && [ ! -L "$f" ] && echo "$f"; done)
while IFS= read -r so; do
  objects+=("$so")
done < <(find "$out/opt/java" -name '*.so' ! -name 'libawt_xawt.so' ! -name 'libjsound.so' \
  ! -name 'libsplashscreen.so' ! -name 'libfontmanager.so' ! -name 'libjawt.so')
libraries="$(for o in "${objects[@]}"; do
  LD_LIBRARY_PATH="$out/opt/java/lib:$out/opt/java/lib/server" ldd "$o" 2>/dev/null || true
done | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | sort -u | grep -v "^$out\|^$scratch")"
missing="$(for o in "${objects[@]}"; do
  LD_LIBRARY_PATH="$out/opt/java/lib:$out/opt/java/lib/server" ldd "$o" 2>/dev/null || true
done | grep 'not found' | grep -v 'libonnxruntime.so' || true)"
if [ -n "$missing" ]; then
  echo "make-image-root: shared libraries not found on this machine:" >&2
  echo "$missing" >&2
  exit 1
fi
# Debian 12 merged /lib into /usr/lib, and dpkg knows each file by the path its package names.
owner() {
  local candidate
  for candidate in "$1" "${1#/usr}" "$(readlink -f "$1")" "$(readlink -f "$1" | sed 's|^/usr||')"; do
    if dpkg -S "$candidate" 2>/dev/null | cut -d: -f1; then
      return
    fi
  done
  echo "make-image-root: no Debian package owns $1" >&2
  return 1
}
packages="$( (printf '%s\n' "${shell_packages[@]}"; for l in $libraries; do owner "$l"; done) | sort -u)"

# Every regular file of those packages, symbolic links copied as the files they point to (so the image has
# no link that could point outside it), at the path the package names.
for p in $packages; do
  dpkg -L "$p" | while IFS= read -r f; do
    case "$f" in
      /usr/share/doc/*/copyright) ;;
      /usr/share/*|/usr/lib/debug/*|/etc/skel/*) continue ;;
    esac
    if [ -f "$f" ]; then
      mkdir -p "$out$(dirname "$f")"
      cp -L "$f" "$out$f"
    fi
  done
done

cp -R "$root_files"/. "$out"/
mkdir -p "$out/tmp" "$out/var/lib/ct-triage"
printf '%s\n' $packages > "$out/opt/java/debian-packages.txt"
echo "make-image-root: $out: jlinked $("$out/opt/java/bin/java" -version 2>&1 | head -1), Debian packages: $(echo $packages)"
