"""Where a whole Snakemake run spent its cores, from its log (.snakemake/log/*.snakemake.log).

Each job's span runs from the log line that starts it to the "Finished jobid" line; a job holds its
`threads` for that span. Printed: the run's wall time, how many seconds 0, 1, 2, ... threads were busy
(idle cores show as seconds below --cores), and per rule the job count and thread-seconds (span ×
threads), largest first. Thread-seconds add up to wall × cores when the run is CPU-bound, so each
rule's share is its share of the run. Unlike `benchmark:` files this counts every job and whole
seconds of start-up (Python, imports).

Run: python benchmarks/demo_profile.py .snakemake/log/<run>.snakemake.log [--json out.json]
"""

import argparse
import json
import re
from collections import Counter
from datetime import datetime

STAMP = re.compile(r"\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]")
START = re.compile(r"(?:local)?rule (\w+):")
JOBID = re.compile(r"\s+jobid: (\d+)")
THREADS = re.compile(r"\s+threads: (\d+)")
FINISHED = re.compile(r"Finished jobid: (\d+)")


def jobs(lines: list[str]) -> list[dict]:
    """Finished jobs as {"rule", "threads", "start", "end"} (datetimes, one-second resolution)."""
    now, pending, running, done = None, None, {}, []
    for line in lines:
        if m := STAMP.match(line):
            now = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := START.match(line):
            pending = {"rule": m.group(1), "threads": 1, "start": now}
        elif pending and (m := JOBID.match(line)):
            running[m.group(1)] = pending
        elif pending and (m := THREADS.match(line)):
            pending["threads"] = int(m.group(1))
        elif (m := FINISHED.match(line)) and m.group(1) in running:
            done.append({**running.pop(m.group(1)), "end": now})
    return done


def profile(done: list[dict]) -> dict:
    """Wall seconds, seconds per busy-thread count, and per rule {jobs, thread_seconds}."""
    start, end = min(j["start"] for j in done), max(j["end"] for j in done)
    busy = [0] * int((end - start).total_seconds())
    rules: dict[str, dict] = {}
    for j in done:
        first, last = ((t - start).total_seconds() for t in (j["start"], j["end"]))
        for second in range(int(first), int(last)):
            busy[second] += j["threads"]
        entry = rules.setdefault(j["rule"], {"jobs": 0, "thread_seconds": 0.0})
        entry["jobs"] += 1
        entry["thread_seconds"] += (last - first) * j["threads"]
    ranked = dict(sorted(rules.items(), key=lambda kv: -kv[1]["thread_seconds"]))
    return {"wall_s": len(busy), "busy_threads_s": dict(sorted(Counter(busy).items())), "rules": ranked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log")
    parser.add_argument("--json", help="also write the profile here")
    args = parser.parse_args()
    with open(args.log) as f:
        result = profile(jobs(f.read().splitlines()))
    total = sum(r["thread_seconds"] for r in result["rules"].values())
    print(f"wall {result['wall_s']} s; seconds by busy threads {result['busy_threads_s']}; "
          f"{total:.0f} thread-s in {sum(r['jobs'] for r in result['rules'].values())} jobs")
    for rule, r in result["rules"].items():
        print(f"{rule:32s} {r['jobs']:4d} jobs {r['thread_seconds']:7.0f} thread-s "
              f"{100 * r['thread_seconds'] / total:5.1f} %  {r['thread_seconds'] / r['jobs']:6.1f} per job")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
