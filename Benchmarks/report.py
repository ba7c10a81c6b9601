#!/usr/bin/env python3
"""Turns one `make bench` run's raw measurements into the table on stdout and
Benchmarks/results/latest.json, shaped {"figures": {name: {"flame": N, "c_floor": N,
"procpool": N, "ray": N, "dask": N, "unit": "..."}}} (peers present where measured), plus
"details" (figures beyond the contract) and "notes" (peers skipped and why).

    report.py RAW_DIR OUTPUT_JSON

RAW_DIR holds what Benchmarks/run collected: floor-*.json (C floor modes), flame.jsonl,
flame-static.jsonl, admin.jsonl (one {"figure": ...} object per line) and peer-*.json.
"""
import json
import pathlib
import sys

raw = pathlib.Path(sys.argv[1])
output = pathlib.Path(sys.argv[2])


def lines(name):
    path = raw / name
    if not path.exists():
        return {}
    return {f["figure"]: f for f in map(json.loads, filter(str.strip, path.read_text().splitlines())) if "figure" in f}


def floor(mode):
    path = raw / f"floor-{mode}.json"
    return json.loads(path.read_text()) if path.exists() else {}


flame, static, admin = lines("flame.jsonl"), lines("flame-static.jsonl"), lines("admin.jsonl")
rtt_floors = [json.loads(p.read_text()) for p in sorted(raw.glob("floor-rtt-*.json"))]
peers, notes = {}, []
for path in sorted(raw.glob("peer-*.json")):
    result = json.loads(path.read_text())
    if "figures" in result:
        peers[result["peer"]] = result["figures"]
    else:
        notes.append(f'{result["peer"]}: {result.get("skipped", "no result")}')


def get(figures, figure, field):
    value = figures.get(figure, {}).get(field)
    return None if value is None or value < 0 else value


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


figures = {
    "warm_rtt_p50_us": ("us", get(flame, "warm_rtt", "p50_us"), mean(f.get("p50_us") for f in rtt_floors)),
    "warm_rtt_p99_us": ("us", get(flame, "warm_rtt", "p99_us"), mean(f.get("p99_us") for f in rtt_floors)),
    "throughput_calls_per_s": ("calls/s", get(flame, "throughput", "calls_per_s"), floor("throughput").get("calls_per_s")),
    "cold_boot_p50_ms": ("ms", get(flame, "cold_boot", "p50_ms"), floor("cold_boot").get("p50_ms")),
    "payload_1mib_p50_ms": ("ms", get(flame, "payload_1mib", "p50_ms"), floor("payload").get("p50_ms")),
    "idle_runner_rss_mb": ("MB", get(flame, "idle_runner_rss", "median_mb"), floor("rss").get("mb")),
    "snapshot_100_runners_us": ("us", get(admin, "snapshot_100_runners", "p50_us"), None),
    "warm_rtt_p50_us_tcp": ("us", get(flame, "tcp", "rtt_p50_us"), floor("rtt_tcp").get("p50_us")),
    "throughput_calls_per_s_tcp": ("calls/s", get(flame, "tcp", "calls_per_s"), floor("throughput_tcp").get("calls_per_s")),
    "cold_boot_p50_ms_slurm": ("ms", get(flame, "slurm", "cold_boot_p50_ms"), None),
    "warm_rtt_p50_us_slurm": ("us", get(flame, "slurm", "rtt_p50_us"), None),
    "throughput_calls_per_s_slurm": ("calls/s", get(flame, "slurm", "calls_per_s"), None),
    "swarm_parent_cpu_percent": ("%", get(flame, "swarm", "parent_cpu_percent"), None),
    "swarm_parent_threads": ("threads", get(flame, "swarm", "parent_threads"), None),
    "swarm_rtt_p50_us": ("us", get(flame, "swarm", "rtt_p50_us"), None),
    "snapshot_2000_runners_us": ("us", get(flame, "swarm", "snapshot_us"), None),
    "flametop_cpu_percent": ("%", get(admin, "flametop_cpu", "percent_10hz_100_runners"), None),
    "flametop_frame_us": ("us", get(admin, "flametop_frame", "p50_us"), None),
}

contract = {}
for name, (unit, ours, c_floor) in figures.items():
    entry = {}
    if ours is not None:
        entry["flame"] = round(ours, 3)
    if c_floor is not None:
        entry["c_floor"] = round(c_floor, 3)
    for peer in ("procpool", "ray", "dask"):
        if name in peers.get(peer, {}):
            entry[peer] = round(peers[peer][name], 3)
    entry["unit"] = unit
    contract[name] = entry


def goal(name):
    """(text, met?) for each figure's goal (the goal column of docs/PERFORMANCE.md)."""
    entry = contract[name]
    ours = entry.get("flame")
    if ours is None:
        return "", None
    if name == "warm_rtt_p50_us":
        ratio = ours / entry["c_floor"] if entry.get("c_floor") else None
        return (f"≤ 2× floor (is {ratio:.2f}×)" if ratio else "≤ 2× floor"), (ratio is not None and ratio <= 2)
    if name == "throughput_calls_per_s":
        procpool = entry.get("procpool")
        times = f", {ours / procpool:.0f}× procpool" if procpool else ""
        return f"≥ 150,000 and ≥ 15× procpool{times}", ours >= 150_000 and (procpool is None or ours >= 15 * procpool)
    if name == "warm_rtt_p99_us":
        ratio = ours / entry["c_floor"] if entry.get("c_floor") else None
        return (f"≤ 3× floor (is {ratio:.2f}×)" if ratio else "≤ 3× floor"), (ratio is not None and ratio <= 3)
    if name == "warm_rtt_p50_us_tcp":
        socketpair_floor = contract["warm_rtt_p50_us"].get("c_floor")
        ratio = ours / socketpair_floor if socketpair_floor else None
        return (f"≤ 3× socketpair floor (is {ratio:.2f}×)" if ratio else "≤ 3× socketpair floor"), (ratio is not None and ratio <= 3)
    if name in ("warm_rtt_p50_us_slurm", "throughput_calls_per_s_slurm", "cold_boot_p50_ms_slurm"):
        # Beside the same figure for local runners over TCP (the cold boot: beside local's).
        local = {"warm_rtt_p50_us_slurm": "warm_rtt_p50_us_tcp", "throughput_calls_per_s_slurm": "throughput_calls_per_s_tcp",
                 "cold_boot_p50_ms_slurm": "cold_boot_p50_ms"}[name]
        theirs = contract[local].get("flame")
        return (f"(report: {ours / theirs:.2f}× local)" if theirs else "(report)"), None
    if name == "swarm_rtt_p50_us":
        alone = get(flame, "swarm", "rtt_1_runner_p50_us")
        ratio = ours / alone if alone else None
        return (f"≤ 1.5× with 1 runner (is {ratio:.2f}×)" if ratio else "≤ 1.5× with 1 runner"), (ratio is not None and ratio <= 1.5)
    limits = {
        "throughput_calls_per_s_tcp": ("≥ 100,000", -100_000), "swarm_parent_cpu_percent": ("≤ 5 %", 5),
        "swarm_parent_threads": ("≤ 16", 16), "snapshot_2000_runners_us": ("≤ 10,000 µs", 10_000),
        "cold_boot_p50_ms": ("≤ 5 ms", 5), "payload_1mib_p50_ms": ("≤ 1 ms", 1),
        "idle_runner_rss_mb": ("≤ 10 MB", 10), "flametop_cpu_percent": ("≤ 2 %", 2), "flametop_frame_us": ("≤ 2,000 µs", 2000),
    }
    if name in limits:
        text, limit = limits[name]
        return text, (ours >= -limit if limit < 0 else ours <= limit)
    return "(report)", None


def show(value):
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


columns = ("flame", "c_floor", "procpool", "ray", "dask")
print(f'{"figure":26} {"unit":8}' + "".join(f"{c:>11}" for c in columns) + "  goal")
for name, entry in contract.items():
    text, met = goal(name)
    verdict = "" if met is None else ("  met" if met else "  MISSED")
    print(f"{name:26} {entry['unit']:8}" + "".join(f"{show(entry.get(c)):>11}" for c in columns) + f"  {text}{verdict}")

details = {
    "parent_rss_with_8_idle_runners_mb": get(flame, "idle_runner_rss", "parent_with_8_mb"),
    "static_stdlib_cold_boot_p50_ms": get(static, "cold_boot", "p50_ms"),
    "static_stdlib_idle_runner_rss_mb": get(static, "idle_runner_rss", "median_mb"),
    "throughput_by_runners": {k: v for k, v in flame.get("scaling", {}).items() if k != "figure"},
    "scale_out_0_to_8_busy_ms": get(flame, "scale_out", "to_8_busy_ms"),
    "scale_out_10000_calls_done_ms": get(flame, "scale_out", "burst_done_ms"),
    "snapshot_100_runners_bytes": get(admin, "snapshot_100_runners", "bytes"),
    "snapshot_100_runners_build_us": get(admin, "snapshot_100_runners", "build_p50_us"),
    "snapshot_decode_us": get(admin, "snapshot_decode_100_runners", "p50_us"),
    "snapshot_decode_jsondecoder_us": get(admin, "snapshot_decode_100_runners", "jsondecoder_p50_us"),
    "parent_cpu_percent_idle_100_runners": get(admin, "parent_cpu_percent", "idle_100_runners"),
    "parent_cpu_percent_5_clients_10hz": get(admin, "parent_cpu_percent", "with_5_clients_10hz"),
    "flametop_frame_p99_us": get(admin, "flametop_frame", "p99_us"),
    "flametop_2000_runners_decode_us": get(admin, "flametop_2000_runners", "decode_p50_us"),
    "flametop_2000_runners_update_us": get(admin, "flametop_2000_runners", "update_p50_us"),
    "flametop_2000_runners_frame_us": get(admin, "flametop_2000_runners", "frame_p50_us"),
    "c_floor_rtt_runs": rtt_floors,
    "inline_job_rtt_p50_us": get(flame, "inline", "rtt_p50_us"),
    "inline_job_ordinary_rtt_p50_us": get(flame, "inline", "ordinary_rtt_p50_us"),
    "inline_job_calls_per_s": get(flame, "inline", "calls_per_s"),
    "inline_job_ordinary_calls_per_s": get(flame, "inline", "ordinary_calls_per_s"),
    "warm_rtt_p99_us_tcp": get(flame, "tcp", "rtt_p99_us"),
    "c_floor_rtt_tcp_p99_us": floor("rtt_tcp").get("p99_us"),
    "slurm_cold_boot_max_ms": get(flame, "slurm", "cold_boot_max_ms"),
    "slurm_rtt_p99_us": get(flame, "slurm", "rtt_p99_us"),
    "swarm_runners": get(flame, "swarm", "runners"),
    "swarm_rtt_1_runner_p50_us": get(flame, "swarm", "rtt_1_runner_p50_us"),
    "swarm_boot_all_s": get(flame, "swarm", "boot_all_s"),
    "swarm_shutdown_s": get(flame, "swarm", "shutdown_s"),
    "swarm_parent_rss_mb": get(flame, "swarm", "parent_rss_mb"),
    "snapshot_2000_runners_build_us": get(flame, "swarm", "snapshot_build_us"),
    "snapshot_2000_runners_bytes": get(flame, "swarm", "snapshot_bytes"),
}
print()
print(f'parent RSS with 8 idle runners {show(details["parent_rss_with_8_idle_runners_mb"])} MB; '
      f'--static-swift-stdlib: cold boot {show(details["static_stdlib_cold_boot_p50_ms"])} ms, '
      f'idle runner {show(details["static_stdlib_idle_runner_rss_mb"])} MB')
scaling = details["throughput_by_runners"]
if scaling:
    print("throughput by runners ({:.0f} cores): ".format(scaling.get("cores", 0))
          + ", ".join(f"{n} → {show(scaling.get(f'runners_{n}_calls_per_s'))}/s" for n in (1, 2, 4)))
print(f'InlineJob against Job, alternated (medians of 3): round trip p50 {show(details["inline_job_rtt_p50_us"])} µs '
      f'against {show(details["inline_job_ordinary_rtt_p50_us"])} µs; throughput {show(details["inline_job_calls_per_s"])}/s '
      f'against {show(details["inline_job_ordinary_calls_per_s"])}/s')
print(f'scale-out: 0 → 8 busy runners in {show(details["scale_out_0_to_8_busy_ms"])} ms; '
      f'10,000 calls of 2 ms done in {show(details["scale_out_10000_calls_done_ms"])} ms')
print(f'snapshot: {show(details["snapshot_100_runners_bytes"])} bytes, build {show(details["snapshot_100_runners_build_us"])} µs; '
      f'decode {show(details["snapshot_decode_us"])} µs (JSONDecoder {show(details["snapshot_decode_jsondecoder_us"])} µs)')
print(f'parent CPU: idle with 100 runners {show(details["parent_cpu_percent_idle_100_runners"])} %, '
      f'5 clients at 10 Hz {show(details["parent_cpu_percent_5_clients_10hz"])} %')
print(f'swarm: {show(details["swarm_runners"])} runners over TCP booted in {show(details["swarm_boot_all_s"])} s, '
      f'round trip {show(contract["swarm_rtt_p50_us"].get("flame"))} µs against {show(details["swarm_rtt_1_runner_p50_us"])} µs '
      f'with 1; snapshot build {show(details["snapshot_2000_runners_build_us"])} µs of {show(contract["snapshot_2000_runners_us"].get("flame"))} µs; '
      f'shutdown {show(details["swarm_shutdown_s"])} s; parent RSS {show(details["swarm_parent_rss_mb"])} MB')
print(f'flame-top at 2,000 runners, per snapshot: decode {show(details["flametop_2000_runners_decode_us"])} µs, '
      f'update {show(details["flametop_2000_runners_update_us"])} µs, frame {show(details["flametop_2000_runners_frame_us"])} µs')
if "slurm" not in flame:
    notes.append("slurm: no test cluster (scripts/slurm-up.sh needs root), so no Slurm figures")
else:
    print(f'slurm: cold boot p50 {show(contract["cold_boot_p50_ms_slurm"].get("flame"))} ms (max {show(details["slurm_cold_boot_max_ms"])} ms), '
          f'round trip p99 {show(details["slurm_rtt_p99_us"])} µs')
for note in notes:
    print("skipped:", note)

output.parent.mkdir(parents=True, exist_ok=True)
output.write_text(json.dumps({"figures": contract, "details": details, "notes": notes}, indent=1, ensure_ascii=False) + "\n")
print(f"\nwrote {output}")
