#!/usr/bin/env bash
# Throughput benchmark: palisade against tshark, Suricata, nfstream (nDPI) and p0f
# on one pcap, one tool after the other, on the same machine and in the same run.
#
# Usage: bench/run.sh CORPUS.pcap
#   Env: BENCH_TOOLS   space-separated subset of: palisade tshark suricata suricata-ics
#                      nfstream p0f   (default: all of them)
#        BENCH_OUT     directory that keeps each tool's output and logs
#                      (default: a fresh mktemp -d; printed at the end)
#        PALISADE_BIN  palisade binary (default: <repo>/target/release/palisade)
#
# Each tool runs under `/usr/bin/time -f` (wall, user, sys, max RSS). Before each
# tool the corpus is read once with `cat FILE >/dev/null`, so every tool starts
# with the same warm page cache. The process-tree RSS is also sampled every
# 200 ms from /proc (bench/treerss.py), because GNU time reports the largest
# single process only, which under-counts multi-process tools (nfstream).
# The configuration of each tool and why it is fair is written in BENCHMARKS.md.
# Output: a Markdown table on stdout; progress and per-tool sanity lines on stderr.
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1" ]]; then
    echo "usage: $0 CORPUS.pcap" >&2
    exit 2
fi
CORPUS=$(realpath "$1")
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
PALISADE_BIN=${PALISADE_BIN:-$REPO_ROOT/target/release/palisade}
TOOLS=${BENCH_TOOLS:-palisade tshark suricata suricata-ics nfstream p0f}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/palisade-bench.XXXXXX)}
mkdir -p "$OUT"

if [[ ! -x /usr/bin/time ]]; then
    echo "error: /usr/bin/time missing (apt-get install time)" >&2
    exit 1
fi

# ---- corpus facts -----------------------------------------------------------
BYTES=$(stat -c %s "$CORPUS")
PACKETS=""
if [[ -f "$CORPUS.stats.json" ]]; then
    PACKETS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets"])' \
        "$CORPUS.stats.json")
elif command -v capinfos >/dev/null; then
    PACKETS=$(capinfos -M -c -T -r "$CORPUS" | cut -f2)
fi
if [[ -z "$PACKETS" ]]; then
    echo "error: no $CORPUS.stats.json and no capinfos to count packets" >&2
    exit 1
fi

# ---- versions ---------------------------------------------------------------
version_of() (
    set +o pipefail
    case "$1" in
        palisade) "$PALISADE_BIN" --version 2>/dev/null | head -n1 || echo "palisade (unknown)" ;;
        tshark) tshark --version | head -n1 | sed 's/ (Git.*//' ;;
        suricata | suricata-ics) suricata -V | sed 's/This is Suricata version /Suricata /' ;;
        nfstream) python3 - <<'PY'
import importlib.util, re, nfstream
spec = importlib.util.find_spec("_lib_engine")
so = [spec.origin] if spec and spec.origin else []
m = re.search(rb"\x00(\d+\.\d+\.\d+-\d+-[0-9a-f]{7,})\x00", open(so[0], "rb").read()) if so else None
print("nfstream %s (nDPI %s)" % (nfstream.__version__, m.group(1).decode() if m else "?"))
PY
        ;;
        p0f) p0f -h 2>&1 | sed -n 's/^--- \(p0f [^ ]*\) .*/\1/p' ;;
    esac
)

# ---- per-tool commands ------------------------------------------------------
# cmd_of TOOL WORKDIR -> prints a shell command (run with bash -c).
cmd_of() {
    local w=$2
    case "$1" in
        palisade)
            echo "$PALISADE_BIN analyze --db $w/bench.db $CORPUS" ;;
        tshark)
            # Full dissection of every frame with a protocol tree (io,phs needs the tree).
            echo "tshark -n -r $CORPUS -q -z io,phs > $w/phs.txt" ;;
        suricata)
            # Default suricata.yaml as shipped (eve.json, app-layer parsers as shipped:
            # modbus/dnp3/enip off) plus every rule file the package ships in
            # /etc/suricata/rules (the yaml's suricata.rules needs suricata-update,
            # which needs the internet).
            echo "suricata -r $CORPUS -k none --runmode autofp -l $w -S $w/shipped.rules" ;;
        suricata-ics)
            # Same, with the ICS parsers that the shipped yaml leaves off turned on.
            echo "suricata -r $CORPUS -k none --runmode autofp -l $w -S $w/shipped.rules" \
                "--set app-layer.protocols.modbus.enabled=yes" \
                "--set app-layer.protocols.dnp3.enabled=yes" \
                "--set app-layer.protocols.enip.enabled=yes" ;;
        nfstream)
            # nDPI classification of up to 20 packets per flow, flows exported to the end.
            echo "python3 $BENCH_DIR/nfstream_count.py $CORPUS > $w/flows.txt" ;;
        p0f)
            echo "p0f -r $CORPUS -o $w/p0f.log > /dev/null" ;;
    esac
}

# Tells what each tool produced, to show that it did its work (stderr and table notes).
sanity_of() {
    local w=$2
    case "$1" in
        palisade) echo "db $(du -sh "$w" | cut -f1)" ;;
        tshark) echo "phs frames=$(awk '$1 == "eth" {print $2; exit}' "$w/phs.txt" | sed 's/frames://')" ;;
        suricata | suricata-ics)
            python3 - "$w/eve.json" "$w/rules.loaded" <<'PY'
import json, sys, collections
apps, alerts, ev = collections.Counter(), 0, collections.Counter()
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    t = e.get("event_type")
    ev[t] += 1
    if t == "flow":
        apps[e.get("app_proto", "-")] += 1
    elif t == "alert":
        alerts += 1
top = ", ".join("%s=%d" % kv for kv in apps.most_common(8))
print("rules loaded: %s; flows=%d alerts=%d; app_proto: %s"
      % (open(sys.argv[2]).read().strip(), ev["flow"], alerts, top))
PY
            ;;
        nfstream) echo "flows=$(cat "$w/flows.txt")" ;;
        p0f) echo "p0f log lines=$(wc -l < "$w/p0f.log")" ;;
    esac
}

# ---- run ----------------------------------------------------------------------
ROWS=()
NOTES=()
for tool in $TOOLS; do
    w="$OUT/$tool"
    # Suricata and p0f append to their logs: each run starts from an empty folder.
    rm -rf "$w"
    mkdir -p "$w"
    case "$tool" in
        palisade)
            if [[ ! -x "$PALISADE_BIN" ]]; then
                echo "skip palisade: $PALISADE_BIN not built (cargo build --release -p palisade)" >&2
                ROWS+=("| palisade | – | \`target/release/palisade analyze --db \$(mktemp -d)/bench.db FILE\` | not built | | | | | |")
                continue
            fi ;;
        tshark) command -v tshark >/dev/null || { echo "skip tshark: not installed" >&2; continue; } ;;
        suricata | suricata-ics)
            command -v suricata >/dev/null || { echo "skip $tool: not installed" >&2; continue; }
            cat /etc/suricata/rules/*.rules > "$w/shipped.rules" ;;
        nfstream) python3 -c 'import nfstream' 2>/dev/null || { echo "skip nfstream: not installed" >&2; continue; } ;;
        p0f) command -v p0f >/dev/null || { echo "skip p0f: not installed" >&2; continue; } ;;
        *) echo "unknown tool $tool" >&2; exit 2 ;;
    esac
    ver=$(version_of "$tool" || true)
    cmd=$(cmd_of "$tool" "$w")
    echo "== $tool ($ver): $cmd" >&2
    cat "$CORPUS" > /dev/null
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    set +e
    /usr/bin/time -f '%e %U %S %M' -o "$w/time.txt" bash -c "$cmd" > "$w/stdout.txt" 2> "$w/stderr.txt" &
    tpid=$!
    python3 "$BENCH_DIR/treerss.py" "$tpid" > "$w/treerss.txt" &
    spid=$!
    wait "$tpid"
    rc=$?
    wait "$spid"
    set -e
    if [[ "$tool" == suricata* ]]; then
        grep -oE '[0-9]+ rule files processed\. [0-9]+ rules successfully loaded, [0-9]+ rules failed' \
            "$w/suricata.log" "$w/stderr.txt" 2>/dev/null | head -n1 | sed 's/^[^:]*://' > "$w/rules.loaded" || true
    fi
    if [[ $rc -ne 0 ]]; then
        echo "   $tool exited $rc; see $w/stderr.txt" >&2
        tail -n 5 "$w/stderr.txt" >&2
    fi
    read -r wall user sys maxrss_kb < <(tail -n1 "$w/time.txt")
    tree_kb=$(cat "$w/treerss.txt")
    row=$(python3 - "$tool" "$ver" "$cmd" "$wall" "$user" "$sys" "$maxrss_kb" "$tree_kb" \
        "$BYTES" "$PACKETS" "$CORPUS" "$w" "$rc" "$REPO_ROOT" <<'PY'
import sys
tool, ver, cmd, wall, user, sys_, rss, tree, nbytes, pkts, corpus, work, rc, root = sys.argv[1:]
wall, cpu = float(wall), float(user) + float(sys_)
shown = cmd.replace(corpus, "FILE").replace(work, "OUT").replace(root + "/", "")
status = "" if rc == "0" else " (exit %s)" % rc
print("| %s%s | %s | `%s` | %.1f | %.1f | %s | %.1f | %.0f | %.0f |" % (
    tool, status, ver, shown, wall, int(nbytes) / wall / 1e6,
    format(round(int(pkts) / wall), ","), cpu, int(rss) / 1024, int(tree) / 1024))
PY
    )
    ROWS+=("$row")
    note="$(sanity_of "$tool" "$w" 2>&1 || true); load1 before/after $load_before/$(cut -d' ' -f1 /proc/loadavg)"
    NOTES+=("- $tool: $note")
    echo "   $row" >&2
    echo "   $note" >&2
done

# ---- report -----------------------------------------------------------------
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem_gib=$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
echo "Corpus: \`$(basename "$CORPUS")\`, $(printf "%'d" "$BYTES") bytes, $(printf "%'d" "$PACKETS") packets."
echo "Machine: $(nproc) cores, $cpu_model, $mem_gib GiB RAM. Run $(date -u +%Y-%m-%dT%H:%MZ)."
echo "MB/s = file bytes / wall / 10^6. CPU s = user + sys. Peak RSS = GNU time's max RSS (largest"
echo "single process); tree RSS = peak sum of RSS over the process tree, sampled every 200 ms."
echo
echo "| tool | version | command | wall s | MB/s | packets/s | CPU s | peak RSS MiB | tree RSS MiB |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
echo
echo "What each tool produced:"
printf '%s\n' "${NOTES[@]}"
echo
echo "Tool outputs and logs: $OUT"
