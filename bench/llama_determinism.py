#!/usr/bin/env python3
"""Measures whether a llama.cpp server gives the same first-token logprobs for the same request, under the
conditions docs/teachers.md describes (the reason for the LLM teacher's `reproducible` setting).

Usage: scripts/llm-server start && python3 bench/llama_determinism.py [http://127.0.0.1:18080]

Prints, per condition, the largest change of a top-6 log-probability against a reference taken with one
request at a time, and the seconds the condition took:
  concurrent   4 requests in flight (the server batches them)
  other-prompt two different system prompts interleaved, prompt cache on (cached prefixes of the other prompt reused)
  sequential   one at a time, prompt cache on, shuffled order, one prompt
  uncached     4 in flight, cache_prompt false, two prompts interleaved
  reproducible one at a time, cache_prompt false, two prompts shuffled (what Distill does with reproducible: true)
"""
import concurrent.futures as cf
import json
import random
import sys
import time
import urllib.request

base = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18080").rstrip("/")
labels = ["normal", "database", "network", "auth", "storage", "memory"]
codes = "You classify log lines from cloud-native systems.\nCategories:\n" + "".join(
    "%s = %s\n" % (chr(65 + i), l) for i, l in enumerate(labels)) + "Answer with the category's letter only, nothing else."
names = "You classify log lines from cloud-native systems.\nCategories:\n" + "".join(
    "- %s\n" % l for l in labels) + "Answer with the category name only, nothing else."
lines = ["2026-11-29 10:00:01 ERROR could not connect to server: Connection refused (10.0.3.7:5432)",
         "2026-11-29 10:00:02 kernel: Out of memory: Killed process 4242 (java)",
         "sshd[811]: Failed password for invalid user admin from 203.0.113.9",
         "GET /healthz HTTP/1.1 200", "EXT4-fs error (device sda1)", "dial tcp 10.96.0.1:443: i/o timeout"]


def ask(system, line, cache=True):
    body = {"temperature": 0, "max_tokens": 1, "logprobs": True, "top_logprobs": 20, "cache_prompt": cache,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": "Log line: " + line}]}
    request = urllib.request.Request(base + "/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    d = json.loads(urllib.request.urlopen(request).read())
    return [t["logprob"] for t in d["choices"][0]["logprobs"]["content"][0]["top_logprobs"][:6]]


def worst(results, reference):
    return max(abs(a - b) for key, r in results for a, b in zip(r, reference[key]))


jobs = [(s, l) for s in (codes, names) for l in lines]
reference = {j: ask(*j, cache=False) for j in jobs}
report = {}
for name in ["concurrent", "other-prompt", "sequential", "uncached", "reproducible"]:
    started = time.time()
    results = []
    for k in range(3):
        order = jobs[:] if name != "sequential" else [j for j in jobs if j[0] == codes]
        random.Random(k).shuffle(order)
        if name in ("concurrent", "uncached"):
            with cf.ThreadPoolExecutor(4) as pool:
                results += list(zip(order, pool.map(lambda j: ask(*j, cache=(name != "uncached")), order)))
        else:
            results += [(j, ask(*j, cache=(name != "reproducible"))) for j in order]
    report[name] = {"max_logprob_change": round(worst(results, reference), 6), "seconds": round(time.time() - started, 2),
                    "requests": len(results)}
print(json.dumps(report, indent=1))
