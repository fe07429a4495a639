#!/usr/bin/env bash
# Install the Debian packages mtown's build and tests need; no-op when all present.
set -euo pipefail

pkgs=(build-essential cmake pkg-config ccache libboost1.81-dev libcli11-dev
      libhiredis-dev libsqlite3-dev libpqxx-dev libyaml-cpp-dev nlohmann-json3-dev
      libjemalloc-dev liburing-dev catch2 libssl-dev libbenchmark-dev redis-server postgresql-15 nodejs npm clang)

# A single dpkg-query call keeps the everything-present path well under a second.
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' "${pkgs[@]}" 2>/dev/null |
              awk '$NF == "installed" { printf "%s ", $1 }') " || true

missing=()
for p in "${pkgs[@]}"; do
    [[ $installed == *" $p "* ]] && continue
    # NodeSource's nodejs bundles npm and conflicts with Debian's npm package.
    [[ $p == npm ]] && command -v npm >/dev/null 2>&1 && continue
    missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#pkgs[@]} required packages already installed"
    exit 0
fi

if ((EUID != 0)); then
    cat >&2 <<EOF
install-deps: not root, cannot install: ${missing[*]}
Run:
    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}
then re-run this script.
EOF
    exit 1
fi

echo "install-deps: installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# libboost1.81-dev may replace libboost1.74-dev/libboost-dev; -y accepts that.
apt-get install -y --no-install-recommends "${missing[@]}"
