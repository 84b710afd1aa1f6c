"""Samples the resident memory of a process and its descendants until stopped (SIGTERM); prints, per
process, its command, its RSS when first seen, its peak (VmHWM) and the growth between them, in MB."""
import os, signal, sys, time

root = int(sys.argv[1])
seen = {}

def descendants(pid):
    out, stack = [pid], [pid]
    while stack:
        p = stack.pop()
        kids = []
        try:
            # Children are listed by the thread that started them.
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    kids += [int(k) for k in f.read().split()]
        except OSError:
            continue
        out += kids
        stack += kids
    return out

def status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        values["command"] = os.path.basename(f.read().split(b"\0")[0].decode())
    return values

def report(*_):
    print(f"  {'process':<10} {'pid':>8} {'first MB':>9} {'peak MB':>9} {'growth MB':>10}")
    for pid, v in sorted(seen.items()):
        print(f"  {v['command']:<10} {pid:>8} {v['first']:>9.1f} {v['peak']:>9.1f} {v['peak'] - v['first']:>+10.1f}")
    sys.exit(0)

signal.signal(signal.SIGTERM, report)
while True:
    for pid in descendants(root):
        try:
            s = status(pid)
        except (OSError, IndexError):
            continue
        if s["command"] == "blytz" and pid != root:
            continue
        entry = seen.setdefault(pid, {"command": s["command"], "first": s.get("VmRSS", 0), "peak": 0})
        entry["peak"] = max(entry["peak"], s.get("VmHWM", 0), s.get("VmRSS", 0))
    time.sleep(0.02)
