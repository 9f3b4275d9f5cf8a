"""The GPU check of a bundle made by scripts/gpu-bundle.sh, run by its run.sh (which has put the
target Python's torch/lib first on the library path and checked the versions):

    python check/runner.py --python PYTHON --device cuda|cpu --budget SECONDS [--since EPOCH]

Runs each part in its own process with its own timeout (never past the budget), samples the
GPU's memory while it runs, and writes report.txt and report.json next to run.sh, with what
ran, what passed, the figures and the first error of anything that failed. Exits 0 when every
part that ran passed and none was skipped for want of time.

Parts (in order; a part whose input failed is skipped, saying which):
  environment      PyTorch, CUDA, cuDNN, the GPU (nvidia-smi)
  load             the Rust binaries start against this torch/lib
  export_grid      PyTorch's nn parity grid, exported on the device (scripts/export_reference.py)
  device           tests/gpu_check.rs 1: device detection (libtorch_cuda.so, GPUs, cuDNN)
  nn_parity        tests/gpu_check.rs 2: the grid in Rust on the device against PyTorch's
  tutorial         tests/gpu_check.rs 3: the tutorial model trained on the device against the CPU
  mismatch         tests/gpu_check.rs 4: the device-mismatch errors
  nccl             tests/gpu_check.rs 5: a group of one on c10d's NCCL backend (collectives, DDP);
                   on the CPU, its library loads and NCCL refuses in one line for want of a GPU
  train_rust       tch-rnn train --device DEV, a few hundred steps
  train_pytorch    scripts/pytorch/char_model.py train on the same device (check/on_device.py)
  train_large_*    the same with a model and batch sized for a GPU (few steps on --cpu)
  sample_rust      tch-rnn sample speed (two lengths, so that start-up cancels out)
  sample_pytorch   char_model.py sample speed, the same way
  distributed      tch-rnn train --nproc 2 --backend gloo on the device (2 Gloo ranks sharing
                   its first GPU) against train_rust's one-process run
  distributed_nccl tch-rnn train --nproc GPUS --backend nccl (one rank per GPU, NCCL) against
                   train_rust's one-process run; on the CPU, its one-line refusal
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # the bundle's root (run.sh's folder)
RESERVE = 5.0  # seconds kept back from the budget to write the report


class GpuMemory:
    """Total memory used on all GPUs (MiB), sampled by `nvidia-smi -lms 50` while a part runs."""

    def __init__(self):
        self.proc, self.peak, self.baseline = None, None, None

    @staticmethod
    def now():
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=20).stdout
            return sum(int(v) for v in out.split())
        except (OSError, ValueError, subprocess.SubprocessError):
            return None

    def start(self):
        self.baseline = self.now()
        if self.baseline is None:
            return
        self.peak = self.baseline
        try:
            self.proc = subprocess.Popen(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                                          "-lms", "50"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        except OSError:
            return
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        gpus = max(1, len(self.gpu_names()))
        batch = []
        for line in self.proc.stdout:
            try:
                batch.append(int(line.strip()))
            except ValueError:
                continue
            if len(batch) == gpus:
                self.peak = max(self.peak, sum(batch))
                batch = []

    @staticmethod
    def gpu_names():
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20).stdout
            return [line for line in out.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            return []

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
        if self.baseline is None:
            return None
        return self.peak - self.baseline


def first_error(text):
    """The first line that says what went wrong: a Rust panic's message, a Python exception, an
    `error:` line, else the last line."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if "panicked at" in line:
            message = lines[i + 1] if i + 1 < len(lines) else line
            return f"{line.strip()} {message.strip()}"[:400]
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = [x for x in lines[i:] if not x.startswith((" ", "\t"))]
            return tail[-1][:400]
    for line in lines:
        if re.match(r"^(error|Error|ERROR|fatal)\b", line) or ": error: " in line or "not found" in line:
            return line[:400]
    return lines[-1][:400] if lines else "(no output)"


class Runner:
    def __init__(self, args):
        self.args = args
        self.python = args.python
        self.device = args.device
        self.cuda = args.device != "cpu"
        # The budget counts from run.sh's start (--since, wall clock), its own checks included.
        self.started = time.monotonic() - max(0.0, time.time() - (args.since or time.time()))
        self.deadline = self.started + args.budget
        self.work = HERE / "results"
        if self.work.exists():
            subprocess.run(["rm", "-rf", str(self.work)], check=False)
        self.work.mkdir(parents=True)
        self.logs = self.work / "logs"
        self.logs.mkdir()
        self.parts = []
        self.manifest = json.loads((HERE / "MANIFEST.json").read_text())
        self.env = dict(os.environ)
        # nvidia-smi numbers GPUs in PCI order; make CUDA's cuda:0 the same GPU.
        self.env.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        # export_reference.py checks that PyTorch is the version the Rust side links (run.sh has).
        self.env["TCH_RNN_EXPECTED_TORCH"] = self.manifest["libtorch"]
        self.gpu_check = HERE / "bin" / "gpu_check"
        self.tch_rnn = HERE / "bin" / "tch-rnn"
        self.text = HERE / "data" / "shakespeare.txt"

    def remaining(self):
        return self.deadline - time.monotonic() - RESERVE

    def part(self, name, description, cap, run, needs=()):
        """Runs `run(timeout) -> (passed, figures, error)` as part `name`, within `cap` seconds
        and the budget, unless a part it needs did not pass."""
        record = {"name": name, "description": description, "status": None, "seconds": 0.0, "timeout_s": None,
                  "figures": {}, "first_error": None}
        self.parts.append(record)
        missing = [n for n in needs if self.status(n) != "pass"]
        if missing:
            record.update(status="skipped", first_error=f"needs {', '.join(missing)}, which did not pass")
            return record
        timeout = min(cap, self.remaining())
        if timeout < 3:
            record.update(status="skipped", first_error="the time budget is spent")
            return record
        record["timeout_s"] = round(timeout, 1)
        print(f"gpu-check: {name}: {description} (at most {timeout:.0f} s)", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            passed, figures, error = run(timeout)
        except TimeoutError as e:
            passed, figures, error = None, {}, str(e)
        except Exception as e:  # a bug in this runner's parsing must not stop the other parts
            passed, figures, error = False, {}, f"runner: {type(e).__name__}: {e}"
        record["seconds"] = round(time.monotonic() - started, 2)
        record["figures"] = figures
        if passed == "absent":
            record["status"] = "absent"
        else:
            record["status"] = "timeout" if passed is None else ("pass" if passed else "fail")
        record["first_error"] = None if passed else error
        print(f"gpu-check: {name}: {record['status']} in {record['seconds']} s", file=sys.stderr, flush=True)
        return record

    def status(self, name):
        return next((p["status"] for p in self.parts if p["name"] == name), None)

    def figures(self, name):
        return next((p["figures"] for p in self.parts if p["name"] == name), {})

    def execute(self, name, command, timeout, env=None, cwd=None):
        """Runs `command` in its own process group, killing the group at `timeout`; returns
        (exit code, stdout, stderr, peak RSS in MiB, peak GPU memory in MiB above the baseline,
        seconds). Raises TimeoutError with the first error seen so far."""
        memory = GpuMemory() if self.cuda else None
        if memory:
            memory.start()
        out_path, err_path = self.logs / f"{name}.out", self.logs / f"{name}.err"
        with open(out_path, "w") as out, open(err_path, "w") as err:
            (self.logs / f"{name}.command").write_text(" ".join(str(c) for c in command) + "\n")
            started = time.monotonic()
            proc = subprocess.Popen([str(c) for c in command], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    env={**self.env, **(env or {})}, cwd=cwd or self.work, start_new_session=True)
            status, usage = None, None
            while status is None:
                pid, raw, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    status = os.waitstatus_to_exitcode(raw)
                    proc.returncode = status
                elif time.monotonic() - started > timeout:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    seconds = time.monotonic() - started
                    if memory:
                        memory.stop()
                    text = out_path.read_text(errors="replace") + err_path.read_text(errors="replace")
                    raise TimeoutError(f"killed after {seconds:.0f} s (its timeout); last output: {first_error(text)}")
                else:
                    time.sleep(0.02)
            seconds = time.monotonic() - started
        peak_gpu = memory.stop() if memory else None
        stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
        return status, stdout, stderr, round(usage.ru_maxrss / 1024, 1), peak_gpu, seconds

    # -- the parts ---------------------------------------------------------------------------

    def environment(self, timeout):
        code = r"""
import json, torch
d = {"torch": torch.__version__, "cuda_build": torch.version.cuda, "cuda_available": torch.cuda.is_available(),
     "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
     "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []}
print(json.dumps(d))
"""
        status, out, err, rss, _, _ = self.execute("environment", [self.python, "-c", code], timeout)
        if status != 0:
            return False, {}, first_error(err)
        figures = json.loads(out.strip().splitlines()[-1])
        figures["nvidia_smi"] = GpuMemory.gpu_names()
        try:
            driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,memory.total", "--format=csv,noheader"],
                                    capture_output=True, text=True, timeout=20).stdout.strip()
            figures["driver_and_memory"] = driver or None
        except (OSError, subprocess.SubprocessError):
            figures["driver_and_memory"] = None
        if self.cuda and not (figures["cuda_available"] and figures["gpus"]):
            return False, figures, "PyTorch sees no CUDA GPU here (torch.cuda.is_available() is False)"
        return True, figures, None

    def load(self, timeout):
        figures = {}
        # Which libtorch the binaries resolve: the one of this Python (run.sh put it first).
        torch_lib = os.environ.get("TCH_RNN_TORCH_LIB")
        try:
            ldd = subprocess.run(["ldd", str(self.tch_rnn)], capture_output=True, text=True, timeout=timeout,
                                 env=self.env).stdout
        except (OSError, subprocess.SubprocessError):
            ldd = ""
        missing = [line.split()[0] for line in ldd.splitlines() if "not found" in line]
        if missing:
            return False, figures, f"bin/tch-rnn needs {', '.join(missing)}: not found (ldd)"
        m = re.search(r"libtorch_cpu\.so => (\S+)", ldd)
        if m:
            figures["libtorch_cpu"] = m.group(1)
            if torch_lib and os.path.realpath(os.path.dirname(m.group(1))) != os.path.realpath(torch_lib):
                return False, figures, f"bin/tch-rnn resolves libtorch_cpu.so to {m.group(1)}, not in {torch_lib}"
        status, out, err, rss, _, _ = self.execute("load", [self.tch_rnn, "tutorial", "--list"], timeout)
        if status != 0:
            return False, figures, first_error(err + out)
        status, out, err, _, _, _ = self.execute("load_gpu_check", [self.gpu_check, "--list", "--ignored"], timeout)
        if status != 0:
            return False, {}, first_error(err + out)
        figures["gpu_check_tests"] = [line.split(":")[0] for line in out.splitlines() if line.endswith(": test")]
        return True, figures, None

    def export_grid(self, timeout):
        command = [self.python, HERE / "scripts" / "export_reference.py", "--root", self.work / "fixtures",
                   "--device", self.device]
        status, out, err, rss, gpu, seconds = self.execute("export_grid", command, timeout, cwd=HERE)
        figures = {"peak_rss_mib": rss, "peak_gpu_mib": gpu}
        return status == 0, figures, None if status == 0 else first_error(err + out)

    def gpu_test(self, name, test, timeout):
        report = self.work / f"{name}.report"
        env = {"TCH_RNN_GPU_CHECK_DEVICE": self.device, "TCH_RNN_FIXTURES": str(self.work / "fixtures"),
               "TCH_RNN_PARITY_REPORT": str(report)}
        command = [self.gpu_check, "--ignored", "--exact", test, "--test-threads=1", "--nocapture"]
        status, out, err, rss, gpu, seconds = self.execute(name, command, timeout, env=env)
        lines = report.read_text().splitlines() if report.exists() else []
        figures = {"report": lines, "peak_rss_mib": rss, "peak_gpu_mib": gpu}
        ran = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed", out)
        if ran and int(ran.group(1)) + int(ran.group(2)) == 0:
            return False, figures, f"{test} is not in the test binary"
        return status == 0, figures, None if status == 0 else first_error(out + err)

    def device_detection(self, timeout):
        passed, figures, error = self.gpu_test("device", "gpu_1_device_detection", timeout)
        for line in figures["report"]:
            m = re.search(r"device: (\S+); libtorch_cuda.so loaded: (\w+); GPUs: (\d+); cuDNN: (\w+)", line)
            if m:
                figures.update(device=m.group(1), libtorch_cuda_loaded=m.group(2) == "true",
                               gpus=int(m.group(3)), cudnn=m.group(4) == "true")
        return passed, figures, error

    def nn_parity(self, timeout):
        passed, figures, error = self.gpu_test("nn_parity", "gpu_2_nn_parity_against_pytorch_on_the_same_device",
                                               timeout)
        max_abs = max_rel = tolerance = 0.0
        for line in figures["report"]:
            m = re.search(r"max abs diff ([\d.e+-]+|NaN|inf), max rel diff ([\d.e+-]+|NaN|inf), ([\d.]+)% of", line)
            if m:
                max_abs, max_rel = max(max_abs, float(m.group(1))), max(max_rel, float(m.group(2)))
                tolerance = max(tolerance, float(m.group(3)))
            m = re.search(r"nn: (\d+) of (\d+) tensors bit-identical", line)
            if m:
                figures.update(bit_identical=int(m.group(1)), tensors=int(m.group(2)))
        figures.update(max_abs_diff=max_abs, max_rel_diff=max_rel, tolerance_used_percent=tolerance)
        return passed, figures, error

    def tutorial(self, timeout):
        passed, figures, error = self.gpu_test("tutorial", "gpu_3_training_of_the_tutorial_model", timeout)
        for line in figures["report"]:
            m = re.search(r"15 epochs in ([\d.]+) s, loss ([\d.]+) -> ([\d.]+); CPU run: ([\d.]+) -> ([\d.]+); "
                          r"worst relative difference ([\d.e+-]+)", line)
            if m:
                figures.update(seconds_15_epochs=float(m.group(1)), loss_first=float(m.group(2)),
                               loss_last=float(m.group(3)), cpu_loss_last=float(m.group(5)),
                               worst_relative_difference=float(m.group(6)))
        return passed, figures, error

    def mismatch(self, timeout):
        return self.gpu_test("mismatch", "gpu_4_device_mismatch_errors", timeout)

    @staticmethod
    def history(run):
        """(first training loss, last training loss, last validation loss) of RUN/history.csv."""
        rows = [line.split(",") for line in (run / "history.csv").read_text().splitlines()[1:] if line]
        validation = [float(r[2]) for r in rows if len(r) > 2 and r[2]]
        return float(rows[0][1]), float(rows[-1][1]), validation[-1] if validation else None

    def train(self, name, side, options, timeout):
        run = self.work / name
        common = ["--text", self.text, "--out", run, *options]
        if side == "rust":
            command = [self.tch_rnn, "train", *common, "--device", self.device, "--sample-every", "0"]
            speed = r"\((\d+) chars/s[,)]"
        else:
            command = [self.python, HERE / "check" / "on_device.py", self.device,
                       HERE / "scripts" / "pytorch" / "char_model.py", "train", *common]
            speed = r"\((\d+) chars/s in the training steps\)"
        status, out, err, rss, gpu, seconds = self.execute(name, command, timeout, cwd=HERE)
        figures = {"peak_rss_mib": rss, "peak_gpu_mib": gpu, "process_seconds": round(seconds, 2)}
        if status != 0:
            return False, figures, first_error(err + out)
        m = re.search(speed, out)
        if not m:
            return False, figures, f"no chars/s in its output: {first_error(out)}"
        chars = int(m.group(1))
        batch, seq_len = int(options[options.index("--batch") + 1]), int(options[options.index("--seq-len") + 1])
        first, last, validation = self.history(run)
        figures.update(chars_per_second=chars, steps_per_second=round(chars / (batch * seq_len), 2),
                       first_train_loss=first, final_train_loss=last, final_validation_loss=validation)
        pm = re.search(r"peak memory allocated by PyTorch ([\d.]+) MiB", out)
        if pm:
            figures["torch_max_memory_allocated_mib"] = float(pm.group(1))
        ok = last == last and validation is not None and last < first
        return ok, figures, None if ok else f"the loss did not go down: {first} -> {last}"

    def compare_training(self, rust, pytorch):
        """Figures of the Rust run against the PyTorch run of the same options."""
        r, p = self.figures(rust), self.figures(pytorch)
        if "chars_per_second" not in r or "chars_per_second" not in p:
            return
        r["rust_over_pytorch_speed"] = round(r["chars_per_second"] / p["chars_per_second"], 3)
        r["final_train_loss_minus_pytorch"] = r["final_train_loss"] - p["final_train_loss"]
        if r["final_validation_loss"] is not None and p["final_validation_loss"] is not None:
            r["final_validation_loss_minus_pytorch"] = r["final_validation_loss"] - p["final_validation_loss"]

    def sample(self, name, side, checkpoint, timeout):
        lengths, seconds = ((200, 2200) if self.cuda else (100, 600)), []
        for length in lengths:
            args = ["--checkpoint", checkpoint, "--length", str(length), "--seed", "1", "--prime", "ROMEO:"]
            if side == "rust":
                command = [self.tch_rnn, "sample", *args, "--device", self.device]
            else:
                command = [self.python, HERE / "check" / "on_device.py", self.device,
                           HERE / "scripts" / "pytorch" / "char_model.py", "sample", *args]
            left = timeout - sum(seconds)
            if left < 1:
                raise TimeoutError("out of time between the two lengths")
            # On the CPU one thread each, as in training (a busy machine's idle threads spin).
            env = None if self.cuda else {"OMP_NUM_THREADS": "1"}
            status, out, err, rss, gpu, took = self.execute(f"{name}_{length}", command, left, env=env, cwd=HERE)
            if status != 0:
                return False, {}, first_error(err + out)
            if len(out) < length:
                return False, {}, f"sampled {len(out)} characters, asked for {length}"
            seconds.append(took)
        figures = {"seconds": [round(s, 3) for s in seconds], "lengths": list(lengths)}
        extra = seconds[1] - seconds[0]
        if extra < 0.05 * seconds[1]:
            # Start-up and noise swamp the difference: no rate can be read from these two runs.
            figures["chars_per_second"] = None
            figures["note"] = f"the longer sample took {extra:+.3f} s more: too little to time"
        else:
            figures["chars_per_second"] = round((lengths[1] - lengths[0]) / extra)
        return True, figures, None

    def nccl(self, timeout):
        passed, figures, error = self.gpu_test("nccl", "gpu_5_nccl_group_of_one", timeout)
        figures["nccl_library_in_bundle"] = (HERE / "bin" / "libtch_rnn_nccl.so").exists()
        return passed, figures, error

    def distributed(self, timeout, name="distributed", ranks=2, backend="gloo"):
        """`tch-rnn train --nproc RANKS --backend BACKEND` on the device (Gloo: 2 ranks sharing its
        first GPU, CUDA tensors through Gloo's CUDA path; NCCL: one rank per GPU), the options
        of train_rust, against that one-process run: the same steps within float tolerance,
        steps per second, each rank's share of the step time spent exchanging."""
        options = [*self.small, "--nproc", str(ranks), "--backend", backend]
        ok, figures, error = self.train(name, "rust", options, timeout)
        one = self.figures("train_rust")
        if ok and "final_train_loss" in one:
            difference = abs(figures["final_train_loss"] - one["final_train_loss"]) / abs(one["final_train_loss"])
            figures["final_train_loss_relative_to_one_process"] = difference
            figures["speed_over_one_process"] = round(figures["chars_per_second"] / one["chars_per_second"], 3)
            ok = difference < 1e-3
            error = None if ok else f"{ranks} ranks ended {difference:.1e} (relative) from one process's loss"
        return ok, figures, error

    def distributed_nccl(self, timeout):
        """On the GPU, `distributed` with one NCCL rank per GPU; on the CPU, `--backend nccl` is
        refused before any rank starts, in one line."""
        if self.cuda:
            gpus = len(self.figures("environment").get("gpus") or []) or 1
            return self.distributed(timeout, "distributed_nccl", gpus, "nccl")
        command = [self.tch_rnn, "train", "--text", self.text, "--out", self.work / "distributed_nccl", "--nproc", "2",
                   "--backend", "nccl", "--device", "cpu"]
        status, out, err, _, _, _ = self.execute("distributed_nccl", command, timeout, cwd=HERE)
        lines = err.strip().splitlines()
        ok = status != 0 and len(lines) == 1 and "--backend nccl: expected --device cuda" in lines[0]
        return ok, {"refusal": lines}, None if ok else f"expected one refusal line, got status {status}: {err[:300]}"

    def run_all(self):
        cuda, dev = self.cuda, self.device
        self.part("environment", "PyTorch, CUDA, cuDNN and the GPU", 60, self.environment)
        self.part("load", "the Rust binaries start against this PyTorch's torch/lib", 30, self.load)
        self.part("export_grid", f"PyTorch's nn parity grid exported on {dev}", 180, self.export_grid,
                  needs=["environment"])
        self.part("device", f"device detection in Rust ({dev})", 60, self.device_detection, needs=["load"])
        self.part("nn_parity", f"the nn grid in Rust on {dev} against PyTorch on {dev}", 240, self.nn_parity,
                  needs=["export_grid", "device"])
        self.part("tutorial", f"the tutorial model trained on {dev} against the CPU", 90, self.tutorial,
                  needs=["device"])
        self.part("mismatch", "device-mismatch errors", 60, self.mismatch, needs=["device"])
        self.part("nccl", f"a group of one on NCCL ({dev})", 60, self.nccl, needs=["device"])
        # The default model of `tch-rnn train` (2x256 LSTM, batch 32 x 64), then one sized for a
        # GPU. On the CPU (a dry run of the mechanics, on a machine that may be busy) few steps,
        # one thread on both sides, and the second model shrunk.
        steps = self.args.steps or (300 if cuda else 20)
        threads = [] if cuda else ["--threads", "1"]
        small = ["--steps", str(steps), "--eval-every", str(steps), "--seed", "0", "--batch", "32", "--seq-len", "64",
                 *threads]
        self.small = small
        large_steps = 100 if cuda else 2
        shape = (["--hidden", "1024", "--layers", "2", "--embedding", "256", "--batch", "128", "--seq-len", "128"]
                 if cuda else ["--hidden", "64", "--layers", "2", "--embedding", "16", "--batch", "4", "--seq-len", "16"])
        large = ["--steps", str(large_steps), "--eval-every", str(large_steps), "--seed", "0", *shape, *threads]
        what = "2x1024 LSTM, batch 128 x 128" if cuda else "shrunk on the CPU: 2x64 LSTM, batch 4 x 16"
        needs = ["load", "device"]
        self.part("train_rust", f"tch-rnn train --device {dev}, {steps} steps (2x256 LSTM, batch 32 x 64)", 180,
                  lambda t: self.train("train_rust", "rust", small, t), needs=needs)
        self.part("train_pytorch", f"char_model.py train on {dev}, the same options", 180,
                  lambda t: self.train("train_pytorch", "pytorch", small, t), needs=["environment"])
        self.compare_training("train_rust", "train_pytorch")
        self.part("train_large_rust", f"tch-rnn train --device {dev}, {large_steps} steps ({what})",
                  120, lambda t: self.train("train_large_rust", "rust", large, t), needs=needs)
        self.part("train_large_pytorch", f"char_model.py train on {dev}, the same options", 120,
                  lambda t: self.train("train_large_pytorch", "pytorch", large, t), needs=["environment"])
        self.compare_training("train_large_rust", "train_large_pytorch")
        checkpoint = self.work / "train_rust"
        self.part("sample_rust", f"tch-rnn sample --device {dev} speed", 90,
                  lambda t: self.sample("sample_rust", "rust", checkpoint, t), needs=["train_rust"])
        self.part("sample_pytorch", f"char_model.py sample on {dev} speed (the same checkpoint)", 120,
                  lambda t: self.sample("sample_pytorch", "pytorch", checkpoint, t), needs=["train_rust", "environment"])
        s, p = self.figures("sample_rust"), self.figures("sample_pytorch")
        if s.get("chars_per_second") and p.get("chars_per_second"):
            s["rust_over_pytorch_speed"] = round(s["chars_per_second"] / p["chars_per_second"], 3)
        self.part("distributed", f"tch-rnn train --nproc 2 --backend gloo --device {dev}, against one process", 180,
                  self.distributed, needs=["train_rust"])
        what = "one rank per GPU, against one process" if cuda else "refused on the CPU in one line"
        self.part("distributed_nccl", f"tch-rnn train --backend nccl ({what})", 150, self.distributed_nccl,
                  needs=["train_rust", "nccl"] if cuda else ["load"])

    def summary(self):
        """The headline figures, one dict."""
        f = self.figures
        env, grid, tut = f("environment"), f("nn_parity"), f("tutorial")
        out = {
            "torch": env.get("torch"), "gpus": env.get("gpus"), "cudnn_pytorch": env.get("cudnn"),
            "cudnn_rust": f("device").get("cudnn"),
            "nn_bit_identical": grid.get("bit_identical"), "nn_tensors": grid.get("tensors"),
            "nn_max_abs_diff": grid.get("max_abs_diff"), "nn_max_rel_diff": grid.get("max_rel_diff"),
            "tutorial_worst_relative_difference": tut.get("worst_relative_difference"),
        }
        for part in ["train_rust", "train_pytorch", "train_large_rust", "train_large_pytorch", "sample_rust",
                     "sample_pytorch"]:
            g = f(part)
            for key in ["chars_per_second", "steps_per_second", "final_train_loss", "final_validation_loss",
                        "rust_over_pytorch_speed"]:
                if key in g:
                    out[f"{part}.{key}"] = g[key]
        for part in ["distributed", "distributed_nccl"]:
            for key in ["final_train_loss_relative_to_one_process", "speed_over_one_process"]:
                if key in f(part):
                    out[f"{part}.{key}"] = f(part)[key]
        out["nccl"] = next(iter(f("nccl").get("report") or []), None)
        peaks = [p["figures"].get("peak_gpu_mib") for p in self.parts if p["name"] in
                 ("device", "nn_parity", "tutorial", "mismatch", "train_rust", "train_large_rust", "sample_rust")]
        peaks = [p for p in peaks if p is not None]
        out["peak_gpu_mib_rust"] = max(peaks) if peaks else None
        peaks = [p["figures"].get("peak_gpu_mib") for p in self.parts if p["name"] in
                 ("export_grid", "train_pytorch", "train_large_pytorch", "sample_pytorch")]
        peaks = [p for p in peaks if p is not None]
        out["peak_gpu_mib_pytorch"] = max(peaks) if peaks else None
        return out

    def write(self):
        ran = [p for p in self.parts if p["status"] != "skipped"]
        passed = all(p["status"] in ("pass", "absent") for p in self.parts)
        report = {
            "passed": passed, "device": self.device, "budget_s": self.args.budget,
            "elapsed_s": round(time.monotonic() - self.started, 1), "python": self.python,
            "bundle": self.manifest, "summary": self.summary(), "parts": self.parts,
        }
        (HERE / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        lines = [
            f"tch-rnn GPU check: {'PASSED' if passed else 'FAILED'} on {self.device}, "
            f"{len([p for p in ran if p['status'] == 'pass'])} of {len(self.parts)} parts passed, "
            f"{report['elapsed_s']} s of a {self.args.budget:.0f} s budget",
            f"bundle: libtorch {self.manifest.get('libtorch')} (tch {self.manifest.get('tch')}), "
            f"commit {self.manifest.get('commit')}, built {self.manifest.get('built')}",
            f"python: {self.python}",
            "",
        ]
        for p in self.parts:
            lines.append(f"{p['status'].upper():8} {p['name']:20} {p['seconds']:7.1f} s  {p['description']}")
            if p["first_error"]:
                lines.append(f"         first error: {p['first_error']}")
            for key, value in p["figures"].items():
                if key == "report":
                    lines.extend(f"         | {line}" for line in value)
                elif value is not None and value != []:
                    lines.append(f"         {key}: {value}")
        lines += ["", "summary:"] + [f"  {k}: {v}" for k, v in report["summary"].items()]
        lines.append(f"logs: {self.logs}")
        (HERE / "report.txt").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return passed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--budget", type=float, default=480)
    parser.add_argument("--since", type=float, help="when run.sh started (seconds since the epoch)")
    parser.add_argument("--steps", type=int, default=int(os.environ.get("TCH_RNN_GPU_CHECK_STEPS", "0")))
    runner = Runner(parser.parse_args())
    try:
        runner.run_all()
    finally:
        passed = runner.write()
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
