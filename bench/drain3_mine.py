#!/usr/bin/env python3
"""Drain3 peer for `distill bench`: template mining of the same messages with Drain3's TemplateMiner (default
parameters: sim_th 0.4, depth 4, max_children 100; masks of Drain3's README example), grouping accuracy against
the generator's template ids, and messages/s. Usage: drain3_mine.py TSV (template-id TAB message per line).
"""
import json
import sys
import time

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

from drain3_mask import INSTRUCTIONS  # same masks as the masking peer

rows = [line.rstrip("\n").split("\t", 1) for line in open(sys.argv[1], encoding="utf-8")]
truth = [int(t) for t, _ in rows]
messages = [m for _, m in rows]
config = TemplateMinerConfig()
config.masking_instructions = [MaskingInstruction(p, m) for p, m in INSTRUCTIONS]
config.profiling_enabled = False
miner = TemplateMiner(config=config)
start = time.perf_counter()
predicted = [miner.add_log_message(m)["cluster_id"] for m in messages]
seconds = time.perf_counter() - start

groups, true_groups = {}, {}
for i, (p, t) in enumerate(zip(predicted, truth)):
    groups.setdefault(p, []).append(i)
    true_groups.setdefault(t, []).append(i)
correct = sum(len(m) for m in groups.values() if true_groups[truth[m[0]]] == m)
print(json.dumps({"drain3_miner": {"messages": len(messages), "messages_per_second": len(messages) / seconds,
                                   "grouping_accuracy": correct / len(messages), "templates": len(groups)}}))
