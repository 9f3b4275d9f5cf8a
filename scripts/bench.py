"""Benchmarks tch-rnn against PyTorch on this machine, side by side in one run: every workload
runs in Rust and in PyTorch (the Python of scripts/setup.sh) alternately, A B A B, with the same
thread count, several times; the table gives the median (and min-max) of each side, the
Rust/PyTorch ratio of the medians with its target, the ratio of the best runs (the shortest
times: on a noisy machine the least disturbed runs), and the peak resident memory of each side.

- W1: the whole process of each tutorial program and of its twin, start-up included, and the
  floor: a Rust program that only loads libtorch and runs one op (examples/bench_floor.rs);
- W2: the steady-state training step of each "hello" model, RNN, LSTM and GRU, in cell and layer
  forms (examples/bench_worker.rs and scripts/pytorch/bench_worker.py, `step:PROGRAM`);
- W3: kernel-bound steps: 2-layer LSTM, GRU and tanh RNN, input 256, hidden 512, batch 32,
  sequence 64, forward + backward + Adam; and the LSTM's forward alone in eval mode;
- W4: `tch-rnn train` at its defaults (and char_model.py's twin loop), in characters per
  second, and sampling from the default model, in characters per second;
- W5: the peak resident memory of every process above (ru_maxrss);
- W6: data-parallel training: `tch-rnn train --nproc N` against char_model.py under
  `torchrun --nproc-per-node N`, N = 1, 2, 4, the default model and --batch (the global batch),
  each rank with the cores divided among the ranks as threads (at least one), in steps per
  second of the training steps (rank 0's clock); and, from tch-rnn's summary line, each rank's
  share of the step time spent exchanging: the smallest is the allreduce itself (the last
  rank to arrive waits least), the rest above it is waiting for slower ranks.

Usage: scripts/bench.sh [--quick] [--reps N] [--threads N] [--json PATH] [--only NAME,...]
(--quick: a subset, fewer repetitions, under two minutes). Writes the table and JSON to
target/bench/ (or --json). `scripts/bench.sh --table JSON` prints the table of an earlier run.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
EXAMPLES = ROOT / "target" / "release" / "examples"
PROGRAMS = ["rnn_cell", "rnn", "rnn_batch_first", "hello_rnn_cell", "hello_rnn", "hello_embedding", "hello_lstm",
            "hello_gru", "hello_lstm_cell", "hello_gru_cell", "packed_sequences", "hello_attention",
            "hello_attention_packed"]
TRAINING = [p for p in PROGRAMS if p.startswith("hello") or p == "packed_sequences"]
STEPS = ["hello_rnn_cell", "hello_lstm_cell", "hello_gru_cell", "hello_embedding", "hello_lstm", "hello_gru"]
KERNELS = ["lstm", "gru", "rnn", "lstm-eval"]


def run(command, env):
    """Runs `command`; returns (wall seconds, peak RSS in MiB, stdout)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        sys.exit(f"bench: {' '.join(map(str, command))} failed:\n{stderr.decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024, stdout.decode()


class Workload:
    def __init__(self, group, name, unit, rust, python=None, target=None, per_unit=None, read=None):
        self.group, self.name, self.unit = group, name, unit
        self.rust, self.python, self.target = rust, python, target
        # How a run's result becomes the unit measured: the process's wall time, or the
        # worker's own timing of one unit, converted (e.g. to characters per second).
        self.per_unit = per_unit
        # Or what a run printed, read into the unit measured (and, for W6, the exchange shares).
        self.read = read
        self.exchange = []
        self.results = {"rust": [], "pytorch": []}
        self.memory = {"rust": [], "pytorch": []}

    def measure(self, side, command, env):
        out = tempfile.mkdtemp(prefix="tch-rnn-bench-")  # for the runs that write one (--out)
        wall, peak, stdout = run([f"{out}/run" if part is None else part for part in command], env)
        shutil.rmtree(out)
        if self.read is not None:
            value = self.read(stdout)
            shares = re.search(r"exchanging ([0-9/]+)% of the step time", stdout)
            if side == "rust" and shares:
                self.exchange.append([float(x) / 100 for x in shares.group(1).split("/")])
        elif self.per_unit is None:
            value = wall
        else:
            value = self.per_unit(json.loads(stdout.strip().splitlines()[-1])["seconds_per_unit"])
        self.results[side].append(value)
        self.memory[side].append(peak)


def workloads(quick: bool, threads: int, scale: float):
    worker = [str(EXAMPLES / "bench_worker")]
    py_worker = [str(PYTHON), "scripts/pytorch/bench_worker.py"]
    chars_per_step = 64 * 32  # tch-rnn train's defaults: --seq-len 64, --batch 32
    w = [Workload("W1", "floor: load libtorch, one op", "s", [str(EXAMPLES / "bench_floor")])]
    for program in (["rnn", "hello_rnn_cell", "hello_embedding"] if quick else PROGRAMS):
        target = 0.1 if program in TRAINING else None
        w.append(Workload("W1", f"{program} (whole process)", "s", [str(EXAMPLES / program), "--seed", "0"],
                          [str(PYTHON), f"scripts/pytorch/{program}.py", "0"], target))
    # Start-up and model construction without training: what the training programs cost above
    # the floor before their first step.
    w.append(Workload("W1", "hello_lstm --epochs 0 (start-up, model, no step)", "s",
                      [str(EXAMPLES / "hello_lstm"), "--seed", "0", "--epochs", "0"]))
    for program in (["hello_rnn_cell", "hello_lstm"] if quick else STEPS):
        args = [f"step:{program}", str(threads), str(scale)]
        w.append(Workload("W2", f"{program} training step", "ms", worker + args, py_worker + args, 0.5,
                          lambda s: s * 1e3))
    for kernel in (["lstm"] if quick else KERNELS):
        args = [f"kernel:{kernel}", str(threads), str(scale)]
        what = "forward only, eval" if kernel == "lstm-eval" else "forward + backward + Adam"
        w.append(Workload("W3", f"2-layer {kernel.split('-')[0].upper()} 256/512, {what}", "ms", worker + args,
                          py_worker + args, 1.02, lambda s: s * 1e3))
    args = ["train", str(threads), str(scale)]
    w.append(Workload("W4", "tch-rnn train defaults: training", "chars/s", worker + args, py_worker + args, 0.8,
                      lambda s: chars_per_step / s))
    args = ["sample", str(threads), str(scale)]
    w.append(Workload("W4", "sampling, default model", "chars/s", worker + args, py_worker + args, 0.5,
                      lambda s: 1 / s))
    return w + data_parallel(threads, scale)


def steps_per_second(stdout):
    """Steps per second from the chars/s that `tch-rnn train` or char_model.py prints."""
    chars = float(re.search(r"\(([0-9.]+) chars/s", stdout).group(1))
    return chars / (64 * 32)


def data_parallel(cores: int, scale: float):
    """W6: N ranks of `tch-rnn train --nproc N` against `torchrun --nproc-per-node N`."""
    steps = str(20 + round(80 * scale))
    common = ["--steps", steps, "--eval-every", "1000000", "--text", str(ROOT / "data" / "shakespeare.txt")]
    w = []
    for nproc in [1, 2, 4]:
        threads = str(max(1, cores // nproc))
        rust = [str(ROOT / "target/release/tch-rnn"), "train", *common, "--sample-every", "0", "--nproc", str(nproc),
                "--threads", threads, "--out", None]
        torchrun = [str(PYTHON.with_name("torchrun")), "--nproc-per-node", str(nproc), "--standalone",
                    "scripts/pytorch/char_model.py", "train", *common, "--threads", threads, "--out", None]
        w.append(Workload("W6", f"{nproc} rank(s) x {threads} thread(s), default model, --batch 32", "steps/s",
                          rust, torchrun, 1.0, read=steps_per_second))
    return w


def summary(values):
    return statistics.median(values), min(values), max(values)


def ratio(workload, pick=statistics.median):
    """Rust/PyTorch as a ratio of times (of the medians, or of what `pick` takes from each
    side's runs): for rates (chars/s) the inverse of the rates'."""
    if not workload.results["pytorch"]:
        return None
    rust, pytorch = pick(workload.results["rust"]), pick(workload.results["pytorch"])
    return pytorch / rust if is_rate(workload.unit) else rust / pytorch


def best(values_and_unit):
    """The best run of a side: the shortest time, or the highest rate."""
    values, unit = values_and_unit
    return max(values) if is_rate(unit) else min(values)


def is_rate(unit):
    return unit.endswith("/s")


def machine(threads: int) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    flags = Path("/proc/cpuinfo").read_text()
    isa = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "no AVX2"
    torch_version = subprocess.run([str(PYTHON), "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True).stdout.strip()
    return (f"{cpu} ({isa}), {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"PyTorch {torch_version}, {threads} intra-op thread(s)")


def format_value(value, unit):
    if unit == "s":
        return f"{value:.3f}"
    if unit == "ms":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if unit == "steps/s":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def table(ws, machine_line, reps):
    lines = [f"machine: {machine_line}; {reps} runs of each side, alternating", "",
             "| | workload | unit | Rust median (min-max) | PyTorch median (min-max) | Rust/PyTorch time | best runs | "
             "target | peak MiB Rust / PyTorch |", "|---|---|---|---|---|---|---|---|---|"]
    floor = statistics.median(ws[0].results["rust"])
    for w in ws:
        cells = []
        for side in ["rust", "pytorch"]:
            if w.results[side]:
                median, low, high = summary(w.results[side])
                cells.append(f"{format_value(median, w.unit)} ({format_value(low, w.unit)}-{format_value(high, w.unit)})")
            else:
                cells.append("")
        r = ratio(w)
        r_best = ratio(w, lambda values: best((values, w.unit)))
        target = f"<= {w.target}" if w.target else ""
        if w.group == "W1" and w is not ws[0]:
            above = (statistics.median(w.results["rust"]) - floor) * 1e3
            target += f"{'; ' if target else ''}floor {above:+.0f} ms (<= +20)"
        memory = " / ".join(f"{statistics.median(w.memory[s]):.0f}" for s in ["rust", "pytorch"] if w.memory[s])
        lines.append(f"| {w.group} | {w.name} | {w.unit} | {cells[0]} | {cells[1]} | "
                     f"{'' if r is None else f'{r:.3f}'} | {'' if r_best is None else f'{r_best:.3f}'} | {target} | "
                     f"{memory} |")
    exchanges = [w for w in ws if w.exchange]
    if exchanges:
        lines += ["", "| W6, Rust | share of the step time exchanging, by rank (median run) | allreduce (least) | "
                  "waiting (mean above the least) |", "|---|---|---|---|"]
        for w in exchanges:
            shares = [statistics.median(rank) for rank in zip(*w.exchange)]
            least = min(shares)
            waiting = statistics.mean(shares) - least
            lines.append(f"| {w.name} | {' / '.join(f'{x:.0%}' for x in shares)} | {least:.0%} | {waiting:.0%} |")
    return "\n".join(lines)


def table_of(document):
    """The table of a run saved as JSON."""
    ws = []
    for row in document["workloads"]:
        w = Workload(row["group"], row["workload"], row["unit"], None, True if row["pytorch"] else None, row["target"])
        w.results = {"rust": row["rust"], "pytorch": row["pytorch"]}
        w.memory = {side: row["peak_mib"].get(side, []) for side in ["rust", "pytorch"]}
        w.exchange = row.get("exchange", [])
        ws.append(w)
    return table(ws, document["machine"], document["reps"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a subset, under two minutes")
    parser.add_argument("--reps", type=int, help="runs of each side (default 5, 3 with --quick)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (default: the cores)")
    parser.add_argument("--json", type=Path, default=ROOT / "target" / "bench" / "bench.json")
    parser.add_argument("--table", type=Path, help="print the table of the JSON of an earlier run, and stop")
    parser.add_argument("--only", help="comma-separated parts of workload names: run only those workloads "
                                       "(e.g. --only floor,hello_attention)")
    args = parser.parse_args()
    if args.table:
        print(table_of(json.loads(args.table.read_text())))
        return
    reps = args.reps or (3 if args.quick else 5)
    scale = 0.25 if args.quick else 1.0
    if args.threads < 1 or reps < 1:
        sys.exit("bench: --threads and --reps must be at least 1")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    ws = workloads(args.quick, args.threads, scale)
    if args.only:
        parts = args.only.split(",")
        ws = [w for w in ws if any(part in w.name for part in parts)]
        if not ws:
            sys.exit(f"bench: no workload name contains any of {parts}")
    started = time.perf_counter()
    for rep in range(reps):
        for w in ws:
            sides = [("rust", w.rust)] + ([("pytorch", w.python)] if w.python else [])
            for side, command in (sides if rep % 2 == 0 else sides[::-1]):
                w.measure(side, command, env)
        print(f"bench: run {rep + 1}/{reps} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    machine_line = machine(args.threads)
    text = table(ws, machine_line, reps)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"group": w.group, "workload": w.name, "unit": w.unit, "rust": w.results["rust"],
             "pytorch": w.results["pytorch"], "ratio": ratio(w), "target": w.target,
             "peak_mib": {s: w.memory[s] for s in w.memory if w.memory[s]}, "exchange": w.exchange} for w in ws]
    document = {"machine": machine_line, "reps": reps, "quick": args.quick, "threads": args.threads,
                "seconds": time.perf_counter() - started, "workloads": rows}
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=1) + "\n")
    os.replace(tmp, args.json)
    args.json.with_suffix(".md").write_text(text + "\n")
    print(f"bench: {time.perf_counter() - started:.0f} s; JSON in {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
