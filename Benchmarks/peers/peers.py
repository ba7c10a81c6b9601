#!/usr/bin/env python3
"""What users would pick instead of flame-swift, measured like flame-bench measures a call.

    peers.py procpool | ray | dask

prints one JSON object: {"peer": ..., "figures": {name: value}} with the figure names and
units of Benchmarks/run, or {"peer": ..., "skipped": "why"} when the library is absent.
Every peer runs the same trivial function with 2 workers on this machine.
"""
import json
import os
import statistics
import sys
import threading
import time

WARM_ROUNDS = 2000
THROUGHPUT_SECONDS = 3.0
IN_FLIGHT = 64
MEBIBYTE = b"\x01" * (1 << 20)


def ping(value):
    return value


def payload_size(data):
    return len(data)


def percentile(samples, p):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * p))]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def refilling(submit, wait):
    """Calls per second with 64 in flight for 3 s, refilled as answers arrive: submit(fn, arg)
    -> future; wait(futures) -> (done, pending), returning as soon as one is done."""
    def run():
        count = 0
        pending = {submit(ping, i) for i in range(IN_FLIGHT)}
        deadline = time.perf_counter() + THROUGHPUT_SECONDS
        while time.perf_counter() < deadline:
            done, pending = wait(pending)
            count += len(done)
            pending |= {submit(ping, i) for i in range(len(done))}
        while pending:
            _, pending = wait(pending)
        return count / THROUGHPUT_SECONDS
    return run


def measure(call, throughput, worker_pids, cold_boot, warm_rounds=WARM_ROUNDS):
    """call(fn, arg) -> its result, synchronously; throughput() -> calls per second."""
    figures = {}
    for i in range(200):
        call(ping, i)
    samples = []
    for i in range(warm_rounds):
        start = time.perf_counter_ns()
        call(ping, i)
        samples.append((time.perf_counter_ns() - start) / 1000)
    figures["warm_rtt_p50_us"] = percentile(samples, 0.5)
    figures["warm_rtt_p99_us"] = percentile(samples, 0.99)

    figures["throughput_calls_per_s"] = throughput()

    for _ in range(3):
        call(payload_size, MEBIBYTE)
    samples = []
    for _ in range(30):
        start = time.perf_counter_ns()
        call(payload_size, MEBIBYTE)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    figures["payload_1mib_p50_ms"] = statistics.median(samples)

    pids = worker_pids()
    if pids:
        figures["idle_runner_rss_mb"] = statistics.median(rss_mb(pid) for pid in pids)

    if cold_boot:
        samples = [cold_boot() for _ in range(10)]
        figures["cold_boot_p50_ms"] = statistics.median(samples)
    return figures


def procpool():
    import concurrent.futures as cf

    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        def workers():
            return [process.pid for process in pool._processes.values()]

        def cold_boot():
            start = time.perf_counter_ns()
            with cf.ProcessPoolExecutor(max_workers=1) as fresh:
                fresh.submit(ping, 1).result()
            return (time.perf_counter_ns() - start) / 1e6

        def throughput():
            # Done-callbacks that submit the next call: the fastest way to keep 64 in flight
            # (a cf.wait loop managed ~30 % less here).
            lock = threading.Lock()
            finished = threading.Event()
            state = {"count": 0, "outstanding": IN_FLIGHT}
            deadline = time.perf_counter() + THROUGHPUT_SECONDS

            def on_done(_):
                with lock:
                    state["count"] += 1
                    if time.perf_counter() < deadline:
                        pool.submit(ping, 1).add_done_callback(on_done)
                        return
                    state["outstanding"] -= 1
                    if state["outstanding"] == 0:
                        finished.set()

            for i in range(IN_FLIGHT):
                pool.submit(ping, i).add_done_callback(on_done)
            finished.wait()
            return state["count"] / THROUGHPUT_SECONDS

        return measure(
            call=lambda fn, arg: pool.submit(fn, arg).result(),
            throughput=throughput,
            worker_pids=workers,
            cold_boot=cold_boot,
        )


def ray_peer():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    remote_ping = ray.remote(ping)
    remote_size = ray.remote(payload_size)
    remotes = {ping: remote_ping, payload_size: remote_size}

    def workers():
        # Ray's worker processes: children of its raylet named ray::IDLE or ray::ping.
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                        if cmdline.read().startswith(b"ray::"):
                            pids.append(int(entry))
                except OSError:
                    pass
        return pids

    def cold_boot():
        # A new actor is Ray's nearest thing to booting a runner.
        @ray.remote
        class Fresh:
            def ping(self, value):
                return value

        start = time.perf_counter_ns()
        actor = Fresh.remote()
        ray.get(actor.ping.remote(1))
        elapsed = (time.perf_counter_ns() - start) / 1e6
        ray.kill(actor)
        return elapsed

    try:
        return measure(
            call=lambda fn, arg: ray.get(remotes[fn].remote(arg)),
            throughput=refilling(
                submit=lambda fn, arg: remotes[fn].remote(arg),
                wait=lambda refs: (lambda r: (r[0], set(r[1])))(ray.wait(list(refs), num_returns=1)),
            ),
            worker_pids=workers,
            cold_boot=cold_boot,
            warm_rounds=500,
        )
    finally:
        ray.shutdown()


def dask_peer():
    from dask.distributed import Client, LocalCluster, wait as dask_wait

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        def workers():
            return list(client.run(os.getpid).values())

        def cold_boot():
            start = time.perf_counter_ns()
            with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as fresh, Client(fresh) as c:
                c.submit(ping, 1, pure=False).result()
            return (time.perf_counter_ns() - start) / 1e6

        def wait(futures):
            done, pending = dask_wait(list(futures), return_when="FIRST_COMPLETED")
            return set(done), set(pending)

        return measure(
            call=lambda fn, arg: client.submit(fn, arg, pure=False).result(),
            throughput=refilling(submit=lambda fn, arg: client.submit(fn, arg, pure=False), wait=wait),
            worker_pids=workers,
            cold_boot=cold_boot,
            warm_rounds=500,
        )


PEERS = {"procpool": (procpool, "concurrent.futures"), "ray": (ray_peer, "ray"), "dask": (dask_peer, "dask.distributed")}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in PEERS:
        print(f"usage: {sys.argv[0]} {' | '.join(PEERS)}", file=sys.stderr)
        sys.exit(2)
    name = sys.argv[1]
    run, module = PEERS[name]
    try:
        __import__(module)
    except ImportError:
        print(json.dumps({"peer": name, "skipped": f"{module} is not installed (make bench-peers-install)"}))
        sys.exit(0)
    print(json.dumps({"peer": name, "figures": run()}))
