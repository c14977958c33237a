#!/usr/bin/env python3
"""Drain3 peer for `distill bench`: lines/s of Drain3's LogMasker on the same sample file, with the masking
instructions from Drain3's README example configuration (ID, IP, SEQ, HEX, NUM, CMD), one core.
Usage: drain3_mask.py LINES_FILE. Prints JSON for `distill bench --peers`.
"""
import json
import sys
import time

import drain3  # noqa: F401
from drain3.masking import LogMasker, MaskingInstruction

INSTRUCTIONS = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
]

if __name__ == "__main__":
    masker = LogMasker([MaskingInstruction(p, m) for p, m in INSTRUCTIONS], "<", ">")
    lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
    for line in lines[:1000]:
        masker.mask(line)
    start = time.perf_counter()
    for line in lines:
        masker.mask(line)
    seconds = time.perf_counter() - start
    version = getattr(drain3, "__version__", "0.9.11")
    print(json.dumps({"drain3": {"version": version, "lines": len(lines), "lines_per_second": len(lines) / seconds,
                                 "bytes": sum(len(line.encode()) for line in lines)}}))
