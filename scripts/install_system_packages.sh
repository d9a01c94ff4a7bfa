#!/usr/bin/env bash
# System packages gongkai needs beyond its Python dependencies (Debian 12 / bookworm).
#   postgresql               the server the store tests run against (PostgreSQL 15)
#   chromium                 the browser the review app's end-to-end test drives through Playwright
#   libreoffice-writer-nogui only with --with-libreoffice: converts legacy .doc files
#   fonts-arphic-uming, fonts-noto-cjk
#                            only with --with-fonts: the CJK fonts scripts/render_samples.py embeds
#                            when it regenerates the sample PDFs (the tests need no font)
# Idempotent: installs only what is missing, and skips apt-get update when nothing is.
set -euo pipefail

usage() { echo "usage: $0 [--with-libreoffice] [--with-fonts]" >&2; exit 2; }

packages=(postgresql chromium)
for arg in "$@"; do
    case "$arg" in
        --with-libreoffice) packages+=(libreoffice-writer-nogui) ;;
        --with-fonts) packages+=(fonts-arphic-uming fonts-noto-cjk) ;;
        -h|--help) usage ;;
        *) echo "unknown option: $arg" >&2; usage ;;
    esac
done

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "run as root or install sudo" >&2; exit 1; }
    sudo=(sudo)
fi

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "system packages already installed: ${packages[*]}" >&2
    exit 0
fi

echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y "${missing[@]}"
