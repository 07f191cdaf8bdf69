#!/usr/bin/env python3
"""Device classification on the benchmark corpus: how many hosts of each
class get the right device type from `palisade analyze` + `palisade devices`.

The truth comes from the corpus generator itself (../shared/bench/make_corpus.py):
it is imported, seeded like the capture was, and asked for its plant (every
host's address and kind). The script then analyses the capture into a fresh
database, matches each plant host to the device holding its IP (routers by
their MAC) and counts the types.

    bench/classification.py /tmp/ot-50m.pcap
    bench/classification.py --palisade target/release/palisade /work/bench-data/ot-200m.pcap

Hosts that never appear in the capture (a short capture does not reach every
host) are listed as "not seen" and left out of the share. Exit status 1 when
the share is below --target or a PC is called a PLC.
"""

import argparse
import collections
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# The generator's host kinds and the device type each should get. The BMS
# head-end polls every BACnet controller of the plant: a SCADA server of
# the building side.
EXPECTED = {
    'plc': 'plc',
    'io': 'io-adapter',
    'rtu': 'rtu',
    'bacnet': 'building-controller',
    'hmi': 'hmi',
    'ews': 'engineering-workstation',
    'scada': 'scada-server',
    'bms': 'scada-server',
    'historian': 'historian',
    'dns': 'server',
    'dhcp': 'server',
    'fileserver': 'server',
    'nms': 'server',
    'scanner': 'server',
    'switch': 'switch',
    'router': 'router',
    'printer': 'printer',
    'camera': 'camera',
    'nvr': 'nvr',
    'pc': 'workstation',
}

# Report order and names of the classes.
CLASSES = [
    ('plc', 'PLCs'), ('io', 'I/O adapters'), ('rtu', 'RTUs'), ('bacnet', 'BACnet controllers'),
    ('hmi', 'HMIs'), ('ews', 'engineering workstations'), ('scada', 'SCADA servers'), ('bms', 'BMS server'),
    ('historian', 'historians'), ('dns', 'DNS/domain servers'), ('dhcp', 'DHCP server'), ('fileserver', 'file server'),
    ('nms', 'network management'), ('scanner', 'vulnerability scanner'), ('switch', 'switches'),
    ('router', 'routers (gateways)'), ('printer', 'printers'), ('camera', 'cameras'), ('nvr', 'NVR'),
    ('pc', 'Windows PCs'),
]


def load_plant(generator, seed):
    """The generator's hosts as (ip, mac, kind), built exactly as for the capture."""
    spec = importlib.util.spec_from_file_location('make_corpus', generator)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.R.seed(seed)
    gen.make_pools()
    gen.build_plant()
    P = gen.P
    hosts = []
    for h in P.local + [P.vscan] + P.switches:
        ip = '.'.join(str(b) for b in h.ipb)
        hosts.append((ip, h.mac.hex(':'), h.kind, h.name))
    for net, (mac, _vlan) in sorted(gen.NETS.items()):
        if net != 'inet':
            hosts.append((None, mac.hex(':'), 'router', 'gw-' + net))
    return hosts


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode not in (0, 3):
        sys.exit('%s failed (%d): %s' % (' '.join(cmd), out.returncode, out.stderr.strip()))
    return out.stdout


def inventory(palisade, capture, db):
    run([palisade, 'analyze', '--db', db, capture])
    return json.loads(run([palisade, 'devices', '--db', db, '--json']))


def match(hosts, devices):
    """Each host with the device that holds its IP (or, for routers, its MAC)."""
    by_ip = {}
    by_mac = {}
    for d in devices:
        for ip in d['ips']:
            by_ip[ip] = d
        if not d['behind_router']:
            for mac in d['macs']:
                by_mac[mac] = d
    return [(h, by_ip.get(h[0]) if h[0] else by_mac.get(h[1])) for h in hosts]


def evidence(d):
    """The deciding reason of a device, with numbers and quoted values elided."""
    reasons = d.get('classification_reasons') or ['(none)']
    return re.sub(r'\b\d+\b', 'N', re.sub(r'"[^"]*"', '"…"', reasons[0]))


def report(capture, pairs, devices, target):
    rows = []
    right_all = seen_all = 0
    pcs_as_plc = 0
    wrong_types = collections.defaultdict(collections.Counter)
    for kind, name in CLASSES:
        mine = [(h, d) for h, d in pairs if h[2] == kind]
        seen = [(h, d) for h, d in mine if d is not None]
        right = [1 for h, d in seen if d['type'] == EXPECTED[kind]]
        for h, d in seen:
            if d['type'] != EXPECTED[kind]:
                wrong_types[kind][d['type']] += 1
        if kind == 'pc':
            pcs_as_plc = sum(1 for h, d in seen if d['type'] == 'plc')
        right_all += len(right)
        seen_all += len(seen)
        deciding = collections.Counter(evidence(d) for h, d in seen).most_common(1)
        rows.append((name, EXPECTED[kind], len(mine), len(seen), len(right), wrong_types[kind], deciding[0][0] if deciding else ''))
    share = right_all / seen_all if seen_all else 0.0
    print('## %s\n' % os.path.basename(capture))
    print('| class | expected type | hosts | seen | right | share | got instead | most common deciding reason |')
    print('| --- | --- | ---: | ---: | ---: | ---: | --- | --- |')
    for name, want, n, seen, right, wrong, deciding in rows:
        pct = '%.0f%%' % (100.0 * right / seen) if seen else '–'
        instead = ', '.join('%s %d' % (t, c) for t, c in wrong.most_common()) or ''
        print('| %s | `%s` | %d | %d | %d | %s | %s | %s |' % (name, want, n, seen, right, pct, instead, deciding))
    print('| **all** | | %d | %d | %d | **%.1f%%** | | |' % (len(pairs), seen_all, right_all, 100.0 * share))
    matched = {id(d) for _, d in pairs if d is not None}
    extra = collections.Counter(d['type'] for d in devices if id(d) not in matched)
    print('\n%d devices in the inventory, %d of them plant hosts; PCs called a PLC: %d.' % (len(devices), len(matched), pcs_as_plc))
    if extra:
        print('Other devices (not plant hosts): %s.' % ', '.join('%s %d' % kv for kv in extra.most_common()))
    ok = share >= target and pcs_as_plc == 0
    print('\n%s: %.1f%% right (target %.0f%%), %d PCs called a PLC.' % ('PASS' if ok else 'FAIL', 100 * share, 100 * target, pcs_as_plc))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('captures', nargs='+', help='corpus files written by make_corpus.py')
    ap.add_argument('--palisade', default=None, help='palisade binary (default: target/release, else target/debug)')
    ap.add_argument('--generator', default=os.path.join(REPO, '..', 'shared', 'bench', 'make_corpus.py'))
    ap.add_argument('--seed', type=int, default=20250114, help='the seed the corpus was made with')
    ap.add_argument('--target', type=float, default=0.95, help='share of hosts that must be right')
    a = ap.parse_args()
    palisade = a.palisade
    if palisade is None:
        for profile in ('release', 'debug'):
            candidate = os.path.join(REPO, 'target', profile, 'palisade')
            if os.path.exists(candidate):
                palisade = candidate
                break
    if palisade is None or not os.path.exists(palisade):
        sys.exit('no palisade binary: run `cargo build --release -p palisade` or pass --palisade')
    if not os.path.exists(a.generator):
        sys.exit('corpus generator %s not found (pass --generator)' % a.generator)
    hosts = load_plant(a.generator, a.seed)
    ok = True
    for capture in a.captures:
        with tempfile.TemporaryDirectory() as tmp:
            devices = inventory(palisade, capture, os.path.join(tmp, 'bench.db'))
        ok &= report(capture, match(hosts, devices), devices, a.target)
        print()
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
