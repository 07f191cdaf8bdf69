#!/usr/bin/env python3
"""Run nfstream (nDPI) over a pcap and print the number of flows it exported.

n_dissections=20 lets nDPI classify each flow from up to 20 packets;
statistical_analysis=False skips nfstream's optional per-flow statistics.
Other settings are nfstream's defaults (n_meters auto = cores - 1 on Linux).
"""
import sys

from nfstream import NFStreamer


def main():
    streamer = NFStreamer(source=sys.argv[1], n_dissections=20, statistical_analysis=False)
    print(sum(1 for _ in streamer))


if __name__ == "__main__":
    main()
