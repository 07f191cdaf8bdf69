#!/usr/bin/env bash
# What the dissectors cost: `palisade analyze` on one corpus with no dissector,
# with the sensor core's own (issue 2: DHCP, DNS, mDNS, NBNS, LLMNR), with those
# plus the OT/ICS ones, and with all of them; the four runs alternate, RUNS
# times each, fresh database each time, corpus in the page cache.
#
# Usage: bench/dissectors.sh CORPUS.pcap [RUNS]   (default 5 runs)
#   Env: PALISADE_BIN  palisade binary (default: <repo>/target/release/palisade)
# Output: a Markdown table (median and best wall, median CPU, MB/s of the median,
# change of the median wall against the core set) on stdout.
set -euo pipefail
if [[ $# -lt 1 || ! -f "$1" ]]; then
    echo "usage: $0 CORPUS.pcap [RUNS]" >&2
    exit 2
fi
CORPUS=$(realpath "$1")
RUNS=${2:-5}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${PALISADE_BIN:-$REPO_ROOT/target/release/palisade}
CORE=dhcp,dns,mdns,nbns,llmnr
OT=modbus,dnp3,s7comm,s7comm-plus,enip,cip,bacnet,iec104,opcua,profinet,mms,goose,fins,hart-ip,ethercat
SETS=("none" "$CORE" "$CORE,$OT" "all")
NAMES=("none" "core (issue 2)" "core + OT/ICS (issue 3)" "all")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat "$CORPUS" >/dev/null
for ((r = 0; r < RUNS; r++)); do
    for i in "${!SETS[@]}"; do
        rm -f "$WORK"/d.db*
        /usr/bin/time -f "$i %e %U %S" -a -o "$WORK/times" \
            "$BIN" analyze --dissectors "${SETS[$i]}" --db "$WORK/d.db" "$CORPUS" >/dev/null 2>&1
    done
done
python3 - "$WORK/times" "$(stat -c %s "$CORPUS")" "${NAMES[@]}" <<'PY'
import statistics, sys
path, size, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
runs = {}
for line in open(path):
    i, wall, user, system = line.split()
    runs.setdefault(int(i), []).append((float(wall), float(user) + float(system)))
print("| dissectors | wall s (median / best) | CPU s (median) | MB/s (median) | wall vs core |")
print("| --- | ---: | ---: | ---: | ---: |")
core = statistics.median(w for w, _ in runs[1])
for i, name in enumerate(names):
    walls = [w for w, _ in runs[i]]
    med = statistics.median(walls)
    cpu = statistics.median(c for _, c in runs[i])
    print(f"| {name} | {med:.2f} / {min(walls):.2f} | {cpu:.2f} | {size / med / 1e6:.0f} | {100 * (med / core - 1):+.0f}% |")
PY
