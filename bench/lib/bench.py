#!/usr/bin/env python3
"""Turns the raw measurements of bench/run into numbers, verdicts and BENCHMARKS.md.

  bench.py record  RUN_DIR PIPELINE     raw files of one measured pipeline -> RUN_DIR/PIPELINE.json
  bench.py section RUN_DIR              markdown of one run (table + per-run targets) -> stdout
  bench.py report  OUT.md COMMAND RUN_DIR...   the whole BENCHMARKS.md, cross-run targets included
  bench.py brief|noisy RUN_DIR PIPELINE   one-line summary | exit 0 when other load disturbed it
  bench.py set RUN_DIR PIPELINE KEY JSON  sets a field of a recorded pipeline
"""
import glob
import json
import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone

PIPELINES = ["bundle", "floor", "naive"]
NAMES = {"bundle": "bundle (ktp-scan-bridge.jar)", "floor": "(b) floor: Java HttpClient",
         "naive": "(a) naive: sequential curl"}

# the targets
FLOOR_THROUGHPUT_MIN = 0.8
NAIVE_THROUGHPUT_MIN = 10.0
FLOOR_CPU_MAX = 1.5
RSS_GROWTH_MAX = 1.10
SCALING_EFFICIENCY_MIN = 0.8
NOISY_SHARE = 0.05


def load(path):
    with open(path) as f:
        return json.load(f)


def gnu_time(path):
    """user, sys, max RSS (KB) and exit status from `/usr/bin/time -v`."""
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            out[key] = value
    return {"user_s": float(out["User time (seconds)"]), "sys_s": float(out["System time (seconds)"]),
            "max_rss_kb": int(out["Maximum resident set size (kbytes)"]),
            "exit": int(out.get("Exit status", "-1"))}


def results(directory):
    """Result files, how many say COMPLETED, and the spread of their write times."""
    files = glob.glob(os.path.join(directory, "*.json"))
    completed = 0
    mtimes = []
    for name in files:
        with open(name, "rb") as f:
            if re.search(rb'"status"\s*:\s*"COMPLETED"', f.read()):
                completed += 1
        mtimes.append(os.stat(name).st_mtime)
    mtimes.sort()
    return len(files), completed, mtimes


def delta(before, after):
    out = {}
    for key, value in after.items():
        if isinstance(value, dict):
            out[key] = delta(before.get(key, {}), value)
        else:
            out[key] = value - before.get(key, 0)
    return out


def record(run_dir, pipeline):
    meta = load(os.path.join(run_dir, "meta.json"))
    d = os.path.join(run_dir, pipeline)
    t = gnu_time(os.path.join(d, "time.txt"))
    with open(os.path.join(d, "wall.txt")) as f:
        start, end = (float(x) for x in f.read().split())
    stats = delta(load(os.path.join(d, "stats-before.json")), load(os.path.join(d, "stats-after.json")))
    hz = os.sysconf("SC_CLK_TCK")
    with open(os.path.join(d, "sandbox-cpu.txt")) as f:
        sb_user0, sb_sys0, sb_user1, sb_sys1 = (int(x) for x in f.read().split())
    with open(os.path.join(d, "machine-cpu.txt")) as f:
        m_user0, _, m_user1, _ = (int(x) for x in f.read().split())
    n = int(open(os.path.join(d, "images.txt")).read())
    count, completed, mtimes = results(os.path.join(d, "results"))
    wall = end - start
    rec = dict(t)
    rec.update({
        "pipeline": pipeline, "images": n, "wall_s": wall, "cpu_s": t["user_s"] + t["sys_s"],
        "results": count, "completed": completed,
        # first to last result written: the rate once the process is up, startup and shutdown excluded
        "steady_ips": (len(mtimes) - 1) / (mtimes[-1] - mtimes[0]) if len(mtimes) > 1 and mtimes[-1] > mtimes[0] else None,
        "startup_s": mtimes[0] - start if mtimes else None,
        "shutdown_s": end - mtimes[-1] if mtimes else None,
        "token_calls": stats.get("tokenIssuedCount", 0),
        "api_calls": stats.get("apiCalls", {}), "api_errors": stats.get("apiErrors", 0),
        "storage_puts": stats.get("storagePuts", 0), "callbacks": stats.get("callbacksDelivered", 0),
        "sandbox_cpu_s": (sb_user1 - sb_user0 + sb_sys1 - sb_sys0) / hz,
        "extrapolated_from": n if n < meta["images"] else None,
    })
    # User-mode CPU the rest of the machine used meanwhile (other people's builds and tests), as a
    # share of the machine; kernel time is left out because our own loopback traffic and disk
    # writeback are accounted to no process. Above 5 % the wall time is not only ours.
    foreign = (m_user1 - m_user0 - sb_user1 + sb_user0) / hz - t["user_s"]
    rec["foreign_cpu_s"] = max(0.0, foreign)
    rec["foreign_share"] = rec["foreign_cpu_s"] / (wall * os.cpu_count())
    rec["ips"] = n / wall
    rec["cpu_per_image"] = rec["cpu_s"] / n
    with open(os.path.join(run_dir, pipeline + ".json"), "w") as f:
        json.dump(rec, f, indent=1)


def run_data(run_dir):
    meta = load(os.path.join(run_dir, "meta.json"))
    recs = {p: load(os.path.join(run_dir, p + ".json"))
            for p in PIPELINES if os.path.exists(os.path.join(run_dir, p + ".json"))}
    return meta, recs


def verdict(ok):
    return "**PASS**" if ok else "**FAIL**"


def fmt(value, digits=1):
    return "–" if value is None else f"{value:,.{digits}f}"


def section(run_dir):
    meta, recs = run_data(run_dir)
    n, users = meta["images"], meta["users"]
    lines = [f"### {meta['images']:,} images, {users:,} users, concurrency {meta['concurrency']}, "
             f"latency {meta['latency_ms']} ms", "",
             f"`{meta['command']}`  ", f"{meta['date']}; bundle: {meta.get('bundle', '?')}; sandbox: {meta.get('sandbox', '?')}; images ~{meta['image_kb']} KB PNG noise; sandbox processing "
             f"delay {meta['processing_delay_ms']} ms; callbacks on for the bundle only (the baselines poll).", "",
             *([f"Bundle started as `{meta['launch']}`.", ""] if meta.get("launch", "java -jar") != "java -jar" else []),
             *([f"Diagnostic run: bundle started with `{meta.get('bundle_env', '')} {meta.get('bundle_java_opts', '')}`.", ""]
               if meta.get("bundle_env") or meta.get("bundle_java_opts") else []),
             *([f"Diagnostic run: floor started with `{meta.get('floor_java_opts', '')}`.", ""]
               if meta.get("floor_java_opts") else []),
             "| pipeline | images run | wall s | images/s | steady images/s | CPU s | CPU ms/image | peak RSS MB "
             "| token calls | status calls | results COMPLETED | sandbox CPU ms/image | other load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p, r in recs.items():
        note = f" (sample of {r['images']}, extrapolated)" if r.get("extrapolated_from") else ""
        lines.append(
            f"| {NAMES[p]}{note} | {r['images']:,} | {fmt(r['wall_s'])} | {fmt(r['ips'])} | {fmt(r['steady_ips'])} | "
            f"{fmt(r['cpu_s'])} | {fmt(1000 * r['cpu_per_image'], 2)} | {fmt(r['max_rss_kb'] / 1024, 0)} | "
            f"{r['token_calls']:,} | {r['api_calls'].get('status', 0):,} | {r['completed']:,}/{r['images']:,} | "
            f"{fmt(1000 * r['sandbox_cpu_s'] / r['images'], 2)} | {100 * r.get('foreign_share', 0):.0f}%"
            f"{' (noisy)' if r.get('foreign_share', 0) > NOISY_SHARE else ''}"
            f"{' (attempt %d)' % r['attempts'] if r.get('attempts', 1) > 1 else ''} |")
    if "naive" in recs and recs["naive"].get("extrapolated_from"):
        r = recs["naive"]
        lines += ["", f"Baseline (a) ran on the first {r['images']} images only; for {n:,} images it would take "
                      f"~{fmt(r['wall_s'] * n / r['images'], 0)} s and make {n:,} token calls (one per image); it is "
                      f"sequential, so its rate does not depend on the batch size."]
    lines += ["", *targets(meta, recs), ""]
    return "\n".join(lines)


def targets(meta, recs):
    b = recs.get("bundle")
    if not b:
        return []
    out = ["| target (this run) | measured | verdict |", "|---|---|---|"]
    complete = b["completed"] == meta["images"] and b["exit"] == 0
    out.append(f"| every image has a COMPLETED result, exit 0 | {b['completed']:,}/{meta['images']:,}, exit {b['exit']} "
               f"| {verdict(complete)} |")
    if "floor" in recs:
        f = recs["floor"]
        ratio = b["ips"] / f["ips"]
        steady = (b["steady_ips"] / f["steady_ips"]) if b["steady_ips"] and f["steady_ips"] else None
        out.append(f"| throughput ≥ {FLOOR_THROUGHPUT_MIN}× floor (b) | {ratio:.2f}× (steady state {fmt(steady, 2)}×) "
                   f"| {verdict(ratio >= FLOOR_THROUGHPUT_MIN)} |")
        cpu = b["cpu_per_image"] / f["cpu_per_image"]
        out.append(f"| CPU/image ≤ {FLOOR_CPU_MAX}× floor (b) | {cpu:.2f}× ({1000 * b['cpu_per_image']:.2f} vs "
                   f"{1000 * f['cpu_per_image']:.2f} ms) | {verdict(cpu <= FLOOR_CPU_MAX)} |")
    if "naive" in recs:
        a = recs["naive"]
        ratio = b["ips"] / a["ips"]
        out.append(f"| throughput ≥ {NAIVE_THROUGHPUT_MIN:.0f}× naive (a) | {ratio:.1f}× "
                   f"| {verdict(ratio >= NAIVE_THROUGHPUT_MIN)} |")
    out.append(f"| token calls = distinct users | {b['token_calls']:,} calls for {meta['users']:,} users "
               f"| {verdict(b['token_calls'] == meta['users'])} |")
    return out


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip() or \
                subprocess.run(cmd, shell=True, capture_output=True, text=True).stderr.strip()
        except OSError:
            return "?"
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    cpu = sh("awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo")
    java = sh("java -version 2>&1 | head -2 | tr '\\n' ' '")
    return (f"`nproc` {os.cpu_count()} ({cpu}), {mem} RAM, {platform.system()} {platform.release()}; {java}; "
            f"GNU time for CPU and peak RSS.")


def cross_run(runs):
    """Targets that compare runs: RSS from 1k to 10k, scaling with concurrency at latency."""
    out = []
    by_size = {}
    for meta, recs in runs:
        if "bundle" in recs and meta["latency_ms"] == 0:
            by_size.setdefault((meta["concurrency"], meta["latency_ms"]), []).append((meta["images"], recs))
    for (c, lat), items in sorted(by_size.items()):
        items.sort(key=lambda x: x[0])
        if len(items) < 2:
            continue
        (n1, r1), (n2, r2) = items[0], items[-1]
        out += [f"**Peak RSS from {n1:,} to {n2:,} images** (concurrency {c}, latency {lat} ms)", "",
                "| pipeline | RSS MB at %s | RSS MB at %s | growth | verdict (≤ +%d%%) |" % (f"{n1:,}", f"{n2:,}",
                                                                                      round(100 * (RSS_GROWTH_MAX - 1))),
                "|---|---:|---:|---:|---|"]
        for p in ["bundle", "floor"]:
            if p in r1 and p in r2:
                g = r2[p]["max_rss_kb"] / r1[p]["max_rss_kb"]
                v = verdict(g <= RSS_GROWTH_MAX) if p == "bundle" else "(reference)"
                out.append(f"| {NAMES[p]} | {r1[p]['max_rss_kb'] / 1024:.0f} | {r2[p]['max_rss_kb'] / 1024:.0f} "
                           f"| {100 * (g - 1):+.0f}% | {v} |")
        if "bundle" in r1 and "bundle" in r2:
            marginal = (r2["bundle"]["cpu_s"] - r1["bundle"]["cpu_s"]) / (n2 - n1)
            fm = ((r2["floor"]["cpu_s"] - r1["floor"]["cpu_s"]) / (n2 - n1)) if "floor" in r1 and "floor" in r2 else None
            out += ["", f"Marginal CPU per image between the two sizes (start-up cost cancelled out): bundle "
                        f"{1000 * marginal:.2f} ms, floor {fmt(1000 * fm if fm else None, 2)} ms"
                        + (f" → {marginal / fm:.2f}×." if fm else ".")]
        out.append("")
    scaling = {}
    for meta, recs in runs:
        if meta["latency_ms"] > 0 and "bundle" in recs:
            scaling.setdefault((meta["images"], meta["latency_ms"]), []).append((meta["concurrency"], recs))
    for (n, lat), items in sorted(scaling.items()):
        items.sort(key=lambda x: x[0])
        if len(items) < 2:
            continue
        c0, base = items[0]
        out += [f"**Scaling with concurrency at {lat} ms per call** ({n:,} images); efficiency = "
                f"(images/s ÷ images/s at C={c0}) ÷ (C ÷ {c0}), target ≥ {SCALING_EFFICIENCY_MIN}", "",
                "| C | bundle images/s | efficiency | bundle steady images/s | steady efficiency | floor images/s | "
                "floor efficiency | bundle ÷ floor | verdict |", "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for c, recs in items:
            b, f = recs["bundle"], recs.get("floor")
            e = (b["ips"] / base["bundle"]["ips"]) / (c / c0)
            es = ((b["steady_ips"] / base["bundle"]["steady_ips"]) / (c / c0)) if b["steady_ips"] and base["bundle"]["steady_ips"] else None
            fe = ((f["ips"] / base["floor"]["ips"]) / (c / c0)) if f and "floor" in base else None
            out.append(f"| {c} | {b['ips']:.1f} | {e:.2f} | {fmt(b['steady_ips'])} | {fmt(es, 2)} | "
                       f"{fmt(f['ips'] if f else None)} | {fmt(fe, 2)} | {fmt(b['ips'] / f['ips'] if f else None, 2)} "
                       f"| {verdict(e >= SCALING_EFFICIENCY_MIN) if c != c0 else '(base)'} |")
        out.append("")
    return out


def report(out_path, command, run_dirs):
    runs = [run_data(d) for d in run_dirs]
    text = ["# Benchmarks", "",
            f"Produced by `{command}` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.  ",
            f"Machine: {machine()}", ""]
    text += open(os.path.join(os.path.dirname(__file__), "method.md")).read().splitlines()
    text += ["", "## Targets across runs", ""] + cross_run(runs)
    text += ["## Runs", ""]
    for d in run_dirs:
        text.append(section(d))
    with open(out_path, "w") as f:
        f.write("\n".join(text).rstrip() + "\n")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "record":
        record(sys.argv[2], sys.argv[3])
    elif cmd == "section":
        print(section(sys.argv[2]))
    elif cmd == "brief":
        r = load(os.path.join(sys.argv[2], sys.argv[3] + ".json"))
        print("%.1f s, %.1f images/s, %.2f CPU ms/image, %d MB peak RSS, %d token calls, %d/%d COMPLETED, "
              "other load %.0f%%" % (r["wall_s"], r["ips"], 1000 * r["cpu_per_image"], r["max_rss_kb"] // 1024,
                                     r["token_calls"], r["completed"], r["images"], 100 * r["foreign_share"]))
    elif cmd == "set":
        path = os.path.join(sys.argv[2], sys.argv[3] + ".json")
        r = load(path)
        r[sys.argv[4]] = json.loads(sys.argv[5])
        with open(path, "w") as f:
            json.dump(r, f, indent=1)
    elif cmd == "noisy":
        sys.exit(0 if load(os.path.join(sys.argv[2], sys.argv[3] + ".json"))["foreign_share"] > NOISY_SHARE else 1)
    elif cmd == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
