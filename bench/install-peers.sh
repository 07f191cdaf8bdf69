#!/usr/bin/env bash
# Installs the peer tools that bench/run.sh measures, from Debian and PyPI only.
# Versions measured in BENCHMARKS.md (Debian 12 bookworm):
#   tshark 4.0.17-0+deb12u3, p0f 3.09b-3, time 1.9-0.2 (bookworm main)
#   suricata 1:7.0.10-1~bpo12+1 (bookworm-backports: bookworm main has no suricata)
#   nfstream 6.6.0 (PyPI; bundles nDPI 5.0.0)
# Run as root. The backports suite is added only for the suricata install and removed again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq tshark p0f time
if ! command -v suricata >/dev/null; then
    src=/etc/apt/sources.list.d/palisade-bench-backports.sources
    . /etc/os-release
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$VERSION_CODENAME" > "$src"
    apt-get update -qq
    apt-get install -y -qq -t "$VERSION_CODENAME-backports" suricata
    rm -f "$src"
    apt-get update -qq
fi
python3 -m pip install --quiet nfstream==6.6.0
