#!/usr/bin/env python3
"""Print the peak total RSS (KiB) of a process and all its descendants.

Usage: treerss.py PID [INTERVAL_S]. Samples /proc every INTERVAL_S (default 0.2)
until PID is gone. GNU time only reports the largest single process, which
under-counts tools that fork workers (nfstream meters).
"""
import os
import sys
import time


def children_map():
    """Map each live pid to the list of its child pids."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            kids.setdefault(int(fields[1]), []).append(int(name))
    return kids


def rss_kib(pid):
    """Resident set size of one process in KiB, 0 if it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(root):
    """Sum of RSS over root and its descendants."""
    kids = children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss_kib(pid)
        todo.extend(kids.get(pid, []))
    return total


def main():
    root = int(sys.argv[1])
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
    peak = 0
    while os.path.exists("/proc/%d" % root):
        peak = max(peak, tree_rss(root))
        time.sleep(interval)
    print(peak)


if __name__ == "__main__":
    main()
