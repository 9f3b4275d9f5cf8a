"""One workload of the PyTorch side of scripts/bench.py, timed inside the process, the twin of
examples/bench_worker.rs (same workloads, same measurement). Prints one JSON line.

Usage: .venv/bin/python scripts/pytorch/bench_worker.py WORKLOAD THREADS SCALE
- step:PROGRAM: one training epoch (= step) of tutorial twin PROGRAM in steady state: the twin's
  own code, run with its `range(15)` set to 10 and to 10 + 100 * SCALE epochs, its prints caught;
- kernel:lstm | gru | rnn: forward + backward + Adam of a 2-layer network (input 256, hidden 512,
  batch 32, sequence 64); kernel:lstm-eval: its forward only, in eval mode without gradients;
- train: char_model.py's training loop at tch-rnn train's defaults, per training step (as the
  loop times them, without validation and checkpoints), over 20 + 40 * SCALE steps;
- sample: sampling from the default model, per character (1000 * SCALE characters).
"""

import argparse
import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "pytorch"))
import char_model  # noqa: E402


def seconds(f) -> float:
    started = time.perf_counter()
    f()
    return time.perf_counter() - started


def tutorial_step(program: str, scale: float) -> float:
    source = (ROOT / "scripts" / "pytorch" / f"{program}.py").read_text()
    assert source.count("range(15)") == 1, program

    def run(epochs: int):
        code = compile(source.replace("range(15)", f"range({epochs})"), program, "exec")
        sys.argv = [program, "0"]
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, {"__name__": "__main__"})

    extra = round(100 * scale)
    run(10)  # warm-up
    short = seconds(lambda: run(10))
    long = seconds(lambda: run(10 + extra))
    return (long - short) / extra


def kernel(kind: str, scale: float) -> float:
    torch.manual_seed(0)
    cls = {"lstm": torch.nn.LSTM, "lstm-eval": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    net = cls(256, 512, num_layers=2)
    x = torch.randn(64, 32, 256)
    optimizer = torch.optim.Adam(net.parameters())
    if kind == "lstm-eval":
        net.eval()

    def iteration():
        if kind == "lstm-eval":
            with torch.no_grad():
                net(x)
        else:
            optimizer.zero_grad()
            net(x)[0].sum().backward()
            optimizer.step()

    for _ in range(2):
        iteration()  # warm-up
    n = max(1, round(10 * scale))
    return seconds(lambda: [iteration() for _ in range(n)]) / n


def train_step(scale: float) -> float:
    """Seconds per training step, as char_model.train times its steps (without validation and
    checkpoints), over 20 + 40 * SCALE steps."""
    out = tempfile.mkdtemp(prefix="tch-rnn-bench-")
    steps = str(20 + round(40 * scale))
    args = char_model.command_line().parse_args(
        ["train", "--text", str(ROOT / "data" / "shakespeare.txt"), "--out", out, "--steps", steps,
         "--eval-every", "1000000"])
    with contextlib.redirect_stdout(io.StringIO()):
        chars_per_second = char_model.train(args)
    shutil.rmtree(out)
    return args.seq_len * args.batch / chars_per_second


def sample_char(scale: float) -> float:
    vocab = sorted(set((ROOT / "data" / "shakespeare.txt").read_text()))
    torch.manual_seed(0)
    model = char_model.CharModel("lstm", len(vocab), 64, 256, 2, 0.0)
    model.eval()
    char_model.generate(model, vocab, "\n", 50, 1.0)  # warm-up
    n = round(1000 * scale)
    return seconds(lambda: char_model.generate(model, vocab, "\n", n, 1.0)) / n


def main():
    workload, threads, scale = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    torch.set_num_threads(threads)
    kind, _, name = workload.partition(":")
    if kind == "step":
        per_unit, unit = tutorial_step(name, scale), "step"
    elif kind == "kernel":
        per_unit, unit = kernel(name, scale), "iteration"
    elif workload == "train":
        per_unit, unit = train_step(scale), "step"
    elif workload == "sample":
        per_unit, unit = sample_char(scale), "character"
    else:
        sys.exit(f"bench_worker: no workload {workload!r}")
    print(json.dumps({"workload": workload, "seconds_per_unit": per_unit, "unit": unit}))


if __name__ == "__main__":
    main()
