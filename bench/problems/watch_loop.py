"""The training loops of bench/watch.ts (npm run bench:watch): a real loop with and without gradlens.watch.

  watch_loop.py overhead ROUNDS STEPS LOG_DIR
      An MLP 784-256-10 on seeded synthetic data (batch 64, AdamW, torch CPU), STEPS steps per variant and
      round: no watch, watch(every=1), watch(every=10), in a rotating order, each from the same initial weights
      and batches. Prints {"times": {variant: [{"wall", "cpu"} seconds per round]}} (after one warm-up round
      that is not counted). CPU time (of the whole process: the watch's writer thread too) is what the ratio
      uses: on a shared machine wall time mostly measures the neighbours.
  watch_loop.py memory VARIANT STEPS LOG_DIR
      A 10M-parameter MLP (1000-5000-1000), AdamW, STEPS steps; VARIANT none, every1 or every10. Prints the
      process's peak resident memory, what the loop added to it, and the parameters' size (one process per
      variant: peaks only grow).
"""
import copy
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import torch  # noqa: E402

import gradlens  # noqa: E402

EVERY = {"none": None, "every1": 1, "every10": 10}


def batches(inputs, classes, count, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(count * 64, inputs, generator=generator)
    y = torch.randint(0, classes, (count * 64,), generator=generator)
    return [(x[k * 64:(k + 1) * 64], y[k * 64:(k + 1) * 64]) for k in range(count)]


def train(model, data, variant, log_dir, name):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    every = EVERY[variant]
    watch = gradlens.watch(optimizer, model=model, name=name, every=every, log_dir=log_dir) if every else None
    criterion = torch.nn.CrossEntropyLoss()
    started, cpu = time.perf_counter(), time.process_time()
    for x, y in data:
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if watch:
            watch.log(loss=loss.item())
    if watch:
        # Part of the cost: the records still waiting are written before the script goes on.
        watch.close()
    # What the watch itself holds between records: its scratch buffers and its packs' sample indices (exact; RSS moves
    # with the allocator).
    held = 0
    if watch:
        kept = list(watch._buffers.values()) + [tensor for packs in watch._packs.values() for pack in packs for tensor in (pack.samples, pack.length_tensor)]
        held = sum(tensor.numel() * tensor.element_size() for tensor in kept)
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu, "heldBytes": held}


def overhead(rounds, steps, log_dir):
    torch.manual_seed(0)
    initial = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    data = batches(784, 10, steps, 1)
    variants = list(EVERY)
    times = {variant: [] for variant in variants}
    for round_ in range(rounds + 1):
        order = variants[round_ % 3:] + variants[:round_ % 3]
        for variant in order:
            seconds = train(copy.deepcopy(initial), data, variant, log_dir, "bench-%s" % variant)
            if round_ > 0:
                times[variant].append(seconds)
    print(json.dumps({"times": times, "threads": torch.get_num_threads(), "torch": torch.__version__}))


def memory(variant, steps, log_dir):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1000, 5000), torch.nn.ReLU(), torch.nn.Linear(5000, 1000))
    data = batches(1000, 1000, steps, 2)
    parameters = sum(p.numel() for p in model.parameters())
    before = resident()
    timing = train(model, data, variant, log_dir, "bench-memory-%s" % variant)
    seconds = timing["wall"]
    # The resident memory the loop added (AdamW's state, the watch's buffers: what stays), and the process's peak.
    grown = resident() - before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(json.dumps({"peakBytes": peak, "grownBytes": grown, "heldBytes": timing["heldBytes"], "parameters": parameters, "parameterBytes": parameters * 4, "seconds": seconds}))


def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


if __name__ == "__main__":
    if sys.argv[1] == "overhead":
        overhead(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        memory(sys.argv[2], int(sys.argv[3]), sys.argv[4])
