"""The character model of `tch-rnn train` in PyTorch: the same model (Embedding -> RNN | LSTM |
GRU -> Linear, batch first, PyTorch's parameter names), the same training loop (random windows
drawn with torch.randint, zero initial state, mean cross entropy, clip_grad_norm_, Adam, AdamW
or SGD, and a learning-rate scheduler stepped after each evaluation), and
the same checkpoint layout, so that models go from Rust to PyTorch and back:

    RUN/latest -> checkpoints/step-NNNNNN/   config.json, vocab.json, model.safetensors,
                                             optimizer.safetensors, rng.safetensors, state.json

Usage (with the Python that scripts/setup.sh installed):
    .venv/bin/python scripts/pytorch/char_model.py train --text FILE --out DIR [--steps N ...]
    .venv/bin/python scripts/pytorch/char_model.py sample --checkpoint DIR [--prime TEXT ...]
    .venv/bin/python scripts/pytorch/char_model.py logits --checkpoint DIR --input TEXT
        (prints the logits of every step of TEXT from a zero state, one float per line, exactly)

`tch-rnn train` and `char_model.py train` with the same options, text and seed take the same
steps: tests/char_model.rs holds them to the same parameters.

Data-parallel under torchrun, as `tch-rnn train` under torchrun or with --nproc (Gloo, DDP):
    .venv/bin/torchrun --nproc-per-node 2 scripts/pytorch/char_model.py train --text FILE --out DIR
Every rank draws the same windows and trains on its contiguous share of the --batch rows; rank 0
evaluates and writes. The exchanges are tch-rnn's, in its order (class Ranks), so that Rust and
PyTorch ranks can share one group.
"""

import argparse
import datetime
import gc
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

FORMAT = "tch-rnn char model 2"
VALIDATION_FRACTION = 0.05
CELLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class CharModel(torch.nn.Module):
    def __init__(self, vocab_size, cell, layers, hidden, embedding, dropout):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab_size, embedding)
        self.rnn = CELLS[cell](embedding, hidden, num_layers=layers, dropout=dropout, batch_first=True)
        self.fc = torch.nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        out, state = self.rnn(self.emb(x), state)
        return self.fc(out), state


def split(indices: list[int], seq_len: int):
    """The first 95% to train on, the last 5% (at least 2 characters) for validation."""
    n = len(indices)
    validation_len = max(2, math.floor(n * VALIDATION_FRACTION + 0.5))  # Rust's f64::round
    train_len = n - validation_len
    if train_len <= seq_len:
        sys.exit(f"char_model: the text is too short for --seq-len {seq_len}")
    data = torch.tensor(indices, dtype=torch.int64)
    return data[:train_len], data[train_len:]


def windows(data, starts, length):
    index = starts.unsqueeze(1) + torch.arange(length + 1)
    chunk = data.index_select(0, index.view(-1)).view(starts.size(0), length + 1)
    return chunk[:, :-1], chunk[:, 1:]


def loss_in_windows(model, x, y, seq_len, state):
    """Summed cross entropy of next characters y given inputs x (streams x length), in
    consecutive windows of seq_len from state; and the state after the last window."""
    criterion = torch.nn.CrossEntropyLoss(reduction="sum")
    total = 0.0
    for start in range(0, x.size(1), seq_len):
        logits, state = model(x[:, start:start + seq_len], state)
        total += criterion(logits.reshape(-1, logits.size(-1)), y[:, start:start + seq_len].reshape(-1)).item()
    return total, state


@torch.no_grad()
def evaluate(model, data, seq_len, batch):
    """Mean cross entropy of every next-character prediction, as tch-rnn measures it: `batch`
    contiguous streams in consecutive windows, each stream's state carried; the characters
    the streams leave at the end continue the last stream."""
    predictions = data.size(0) - 1
    streams = min(batch, predictions)
    length = predictions // streams
    rest = predictions - streams * length
    x = data[:streams * length].view(streams, length)
    y = data[1:streams * length + 1].view(streams, length)
    total, state = loss_in_windows(model, x, y, seq_len, None)
    if rest:
        last = tuple(s[:, streams - 1:streams] for s in state) if isinstance(state, tuple) else \
            state[:, streams - 1:streams]
        x = data[streams * length:predictions].view(1, rest)
        y = data[streams * length + 1:].view(1, rest)
        total += loss_in_windows(model, x, y, seq_len, last)[0]
    return total / predictions


class Ranks:
    """This process's part of a run, as tch-rnn's charlm::data_parallel::Shard: alone (no
    torchrun environment) every method is a no-op; in a group, the same collectives in the same
    order as the Rust ranks make them."""

    def __init__(self, timeout):
        self.distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
        self.rank, self.world = 0, 1
        # Seconds in the loss exchange (DDP's gradient exchange overlaps the backward pass here
        # and is not timed).
        self.exchanging = 0.0
        if self.distributed:
            import torch.distributed as dist
            # Imported before the group exists: imported later (DDP does), its functions' default
            # arguments would hold the group for good, and finish() could not end it.
            import torch.distributed.nn.functional  # noqa: F401
            self.dist = dist
            dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=timeout))
            self.rank, self.world = dist.get_rank(), dist.get_world_size()

    def agree(self):
        """Who failed to set up (nobody here: a failing PyTorch rank exits)."""
        if self.distributed:
            self.dist.all_reduce(torch.zeros(self.world, dtype=torch.float64))

    def wrap(self, model):
        return torch.nn.parallel.DistributedDataParallel(model) if self.distributed else model

    def share(self, t):
        rows = t.size(0) // self.world
        return t[self.rank * rows:(self.rank + 1) * rows]

    def mean_loss(self, loss):
        if not self.distributed:
            return loss
        word = torch.tensor([loss / self.world, 0.0], dtype=torch.float64)
        started = time.perf_counter()
        self.dist.all_reduce(word)
        self.exchanging += time.perf_counter() - started
        return word[0].item()

    def gather(self, carry):
        """Every rank's streams, from each rank's share (one broadcast per rank and tensor)."""
        if not self.distributed or carry is None:
            return carry
        gathered = []
        for part in carry if isinstance(carry, tuple) else (carry,):
            shares = [part.contiguous() if root == self.rank else torch.empty_like(part) for root in range(self.world)]
            for root, share in enumerate(shares):
                self.dist.broadcast(share, root)
            gathered.append(torch.cat(shares, 1))
        return tuple(gathered) if isinstance(carry, tuple) else gathered[0]

    def leader_value(self, value=0.0):
        """Rank 0's value on every rank (rank 0's word: [value, failed])."""
        if not self.distributed:
            return value
        word = torch.tensor([value, 0.0] if self.rank == 0 else [0.0, 0.0], dtype=torch.float64)
        self.dist.broadcast(word, 0)
        return word[0].item()

    def finish(self, step_seconds):
        """Each rank's share of its step time spent exchanging, then every rank done before any
        leaves (rank 0 may host the store), and the group ends. The caller has dropped the DDP
        model, the group's last other holder: the group is then freed here, and its Gloo threads
        joined, while the interpreter still runs. (Left to the interpreter's exit, a Gloo thread
        letting go of a Python tensor can abort the process: pytorch/pytorch#190489.)"""
        if self.distributed:
            shares = torch.zeros(self.world, dtype=torch.float64)
            shares[self.rank] = self.exchanging / max(step_seconds, 1e-9)
            self.dist.all_reduce(shares)
            self.dist.barrier()
            self.dist.destroy_process_group()
            gc.collect()


def finite_json(value):
    """`value` for JSON, as tch-rnn writes it: tuples as lists, and the floats JSON has no
    number for as the strings "inf", "-inf" and "nan"."""
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def write_json(path: Path, value) -> bytes:
    data = (json.dumps(finite_json(value), indent=2, allow_nan=False) + "\n").encode()
    path.write_bytes(data)
    return data


def make_optimizer(params, o):
    """The optimizer of the `optim` options `o`, as tch-rnn makes it."""
    betas = (o["beta1"], o["beta2"])
    if o["optimizer"] == "adam":
        decay = 0.0 if o["weight_decay"] is None else o["weight_decay"]
        return torch.optim.Adam(params, lr=o["lr"], betas=betas, eps=o["eps"], weight_decay=decay)
    if o["optimizer"] == "adamw":
        decay = 1e-2 if o["weight_decay"] is None else o["weight_decay"]
        return torch.optim.AdamW(params, lr=o["lr"], betas=betas, eps=o["eps"], weight_decay=decay)
    decay = 0.0 if o["weight_decay"] is None else o["weight_decay"]
    return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], dampening=o["dampening"],
                           weight_decay=decay, nesterov=o["nesterov"])


def make_scheduler(optimizer, o, evaluations):
    """The learning-rate scheduler of the `optim` options `o` (None for a constant rate),
    stepped after each evaluation, as tch-rnn makes it."""
    schedulers = torch.optim.lr_scheduler
    if o["lr_schedule"] == "step":
        return schedulers.StepLR(optimizer, o["lr_step_size"], o["lr_gamma"])
    if o["lr_schedule"] == "exponential":
        return schedulers.ExponentialLR(optimizer, o["lr_gamma"])
    if o["lr_schedule"] == "cosine":
        t_max = o["lr_t_max"] if o["lr_t_max"] is not None else max(1, evaluations)
        return schedulers.CosineAnnealingLR(optimizer, t_max, o["lr_eta_min"])
    if o["lr_schedule"] == "plateau":
        return schedulers.ReduceLROnPlateau(optimizer, factor=o["lr_gamma"], patience=o["lr_patience"])
    return None


# state.json carries its own SHA-256: that of the file with this placeholder in its place.
UNSEALED = "0" * 64


def write_state(path: Path, state) -> None:
    data = (json.dumps({**state, "self_sha256": UNSEALED}, indent=2) + "\n").encode()
    digest = hashlib.sha256(data).hexdigest()
    path.write_bytes(data.replace(UNSEALED.encode(), digest.encode(), 1))


def read_state(path: Path):
    data = path.read_bytes()
    state = json.loads(data)
    sealed = state["self_sha256"]
    if hashlib.sha256(data.replace(sealed.encode(), UNSEALED.encode(), 1)).hexdigest() != sealed:
        sys.exit(f"char_model: {path} does not match its own SHA-256: the file is corrupt")
    return state


def save_checkpoint(run: Path, config, vocab, model, optimizer, scheduler, names, step, validation, best, is_best,
                    position=None, carry=None):
    """Writes RUN/checkpoints/step-NNNNNN whole in a temporary folder, renames it into place,
    then points RUN/latest (and RUN/best) at it, as tch-rnn does."""
    checkpoints = run / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    final = checkpoints / f"step-{step:06d}"
    tmp = Path(tempfile.mkdtemp(dir=checkpoints, prefix=f".{final.name}.tmp-"))
    saved = optimizer.state_dict()
    files = {
        "config.json": write_json(tmp / "config.json", config),
        "vocab.json": write_json(tmp / "vocab.json", {"chars": vocab}),
        "optimizer.json": write_json(tmp / "optimizer.json", {"param_groups": saved["param_groups"]}),
    }
    if scheduler is not None:
        files["scheduler.json"] = write_json(tmp / "scheduler.json", scheduler.state_dict())
    # Each parameter's state tensors as KEY/NAME (Adam's step as a float32 scalar, as tch-rnn).
    state_by_name = {}
    for index, state in saved["state"].items():
        for key, value in state.items():
            value = value.to(torch.float32).reshape(()) if key == "step" else value
            state_by_name[f"{key}/{names[index]}"] = value
    tensors = {
        "model.safetensors": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        "optimizer.safetensors": {k: v.detach().cpu().contiguous() for k, v in state_by_name.items()},
        "rng.safetensors": {"cpu": torch.get_rng_state()},
    }
    if carry is not None:
        carried = carry if isinstance(carry, tuple) else (carry,)
        tensors["carry.safetensors"] = {name: t.contiguous() for name, t in zip(["h", "c"], carried)}
    for name, values in tensors.items():
        save_file(dict(sorted(values.items())), str(tmp / name))
        files[name] = (tmp / name).read_bytes()
    sha256 = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    state = {"step": step, "validation_loss": validation, "best_validation_loss": best}
    if position is not None:
        state["stream"] = {"offset": position[0], "window": position[1]}
    write_state(tmp / "state.json", {**state, "sha256": dict(sorted(sha256.items()))})
    os.replace(tmp, final)
    for pointer in ["latest"] + (["best"] if is_best or not (run / "best").exists() else []):
        link = run / f".{pointer}.link-{os.getpid()}"
        os.symlink(final.relative_to(run), link)
        os.replace(link, run / pointer)


def load_checkpoint(path: Path):
    """(config, vocab, model) from a run's folder (its latest) or a checkpoint folder, every
    file checked against its SHA-256; the model strictly loaded, in eval mode."""
    folder = path if (path / "state.json").is_file() else path / "latest"
    state = read_state(folder / "state.json")
    for name, expected in state["sha256"].items():
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != expected:
            sys.exit(f"char_model: {folder / name} does not match its SHA-256: the file is corrupt")
    config = json.loads((folder / "config.json").read_text())
    if config["format"] != FORMAT:
        sys.exit(f"char_model: {folder} is not a {FORMAT} checkpoint")
    vocab = json.loads((folder / "vocab.json").read_text())["chars"]
    model = CharModel(len(vocab), **config["model"])
    model.load_state_dict(load_file(str(folder / "model.safetensors")), strict=True)
    model.eval()
    return config, vocab, model


def train(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    ranks = Ranks(args.timeout)
    text = Path(args.text).read_text(encoding="utf-8")
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    if args.val_text:
        # A separate validation text, in the training text's characters; all of the text trains.
        validation_text = Path(args.val_text).read_text(encoding="utf-8")
        train_data = torch.tensor([index[c] for c in text], dtype=torch.int64)
        validation_data = torch.tensor([index[c] for c in validation_text], dtype=torch.int64)
    else:
        train_data, validation_data = split([index[c] for c in text], args.seq_len)
    # The whole option table, by group, as tch-rnn's config.json holds it (no samples are shown
    # while training here: sample_every 0).
    config = {
        "format": FORMAT,
        "model": {"cell": args.cell, "layers": args.layers, "hidden": args.hidden, "embedding": args.embedding,
                  "dropout": args.dropout},
        "data": {"text": args.text, "seq_len": args.seq_len, "batch": args.batch, "batching": args.batching,
                 "val_text": args.val_text},
        "optim": {"optimizer": args.optimizer, "lr": args.lr, "clip": args.clip, "weight_decay": args.weight_decay,
                  "beta1": args.beta1, "beta2": args.beta2, "eps": args.eps, "momentum": args.momentum,
                  "dampening": args.dampening, "nesterov": args.nesterov == "true", "lr_schedule": args.lr_schedule,
                  "lr_gamma": args.lr_gamma, "lr_step_size": args.lr_step_size, "lr_t_max": args.lr_t_max,
                  "lr_eta_min": args.lr_eta_min, "lr_patience": args.lr_patience},
        "run": {"seed": args.seed, "steps": args.steps, "epochs": None, "eval_every": args.eval_every,
                "sample_every": 0, "patience": args.patience},
        "text": {"source": args.text, "sha256": hashlib.sha256(text.encode()).hexdigest()},
    }
    torch.manual_seed(args.seed)
    model = CharModel(len(vocab), **config["model"])
    names = [name for name, _ in model.named_parameters()]
    optimizer = make_optimizer(model.parameters(), config["optim"])
    scheduler = make_scheduler(optimizer, config["optim"], -(-args.steps // args.eval_every))
    ranks.agree()
    net = ranks.wrap(model)
    criterion = torch.nn.CrossEntropyLoss()
    vocab_size, high = len(vocab), train_data.size(0) - args.seq_len
    run, best, since_best = Path(args.out), None, 0
    history = ["step,train_loss,validation_loss"]
    step_seconds = 0.0
    # --batching streams: where the streams stand (offset, next window) and the state they carry.
    position, carry = None, None
    steps_taken = 0
    for step in range(1, args.steps + 1):
        step_started = time.perf_counter()
        if args.batching == "streams":
            per_epoch = lambda offset: (train_data.size(0) - offset - 1) // args.batch // args.seq_len  # noqa: E731
            if position is None or position[1] == per_epoch(position[0]):
                carry = None
                position = [torch.randint(args.seq_len, (1,)).item(), 0]
            stream_length = (train_data.size(0) - position[0] - 1) // args.batch
            starts = torch.arange(args.batch) * stream_length + (position[0] + position[1] * args.seq_len)
            position[1] += 1
        else:
            starts = torch.randint(high, (args.batch,))
        x, y = windows(train_data, starts, args.seq_len)
        x, y = ranks.share(x), ranks.share(y)
        model.train()
        logits, state = net(x, carry)
        if args.batching == "streams":
            carry = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        loss = criterion(logits.view(-1, vocab_size), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        if args.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        value = ranks.mean_loss(loss.item())
        step_seconds += time.perf_counter() - step_started
        steps_taken += 1
        validation = ""
        stop = False
        if step % args.eval_every == 0 or step == args.steps:
            model.eval()
            carried = ranks.gather(carry)
            validation_loss = ranks.leader_value(
                evaluate(model, validation_data, args.seq_len, args.batch) if ranks.rank == 0 else 0.0)
            is_best = best is None or validation_loss < best
            best = validation_loss if is_best else best
            since_best = 0 if is_best else since_best + 1
            stop = args.patience is not None and since_best >= args.patience
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(validation_loss)
            elif scheduler is not None:
                scheduler.step()
            if ranks.rank == 0:
                save_checkpoint(run, config, vocab, model, optimizer, scheduler, names, step, validation_loss, best,
                                is_best, position, carried)
            ranks.leader_value()
            validation = repr(validation_loss)
        history.append(f"{step},{value!r},{validation}")
        if stop:
            break
    del net  # see Ranks.finish
    ranks.finish(step_seconds)
    if ranks.rank != 0:
        return None
    (run / "history.csv").write_text("\n".join(history) + "\n")
    chars_per_second = steps_taken * args.batch * args.seq_len / step_seconds
    print(f"char_model: trained {args.steps} steps ({chars_per_second:.0f} chars/s in the training steps); "
          f"validation loss {best}; checkpoint {run / 'latest'}")
    return chars_per_second


@torch.no_grad()
def read_prime(model, prime, window):
    """The logits after reading the indices `prime`, in windows of `window` with the state
    carried, and the state then, as tch-rnn reads a prime."""
    x, state = torch.tensor([prime]), None
    for start in range(0, x.size(1), window):
        logits, state = model(x[:, start:start + window], state)
    return logits[:, -1], state


@torch.no_grad()
def generate(model, vocab, prime, length, temperature, top_k=None, top_p=None, window=None):
    """`length` characters after `prime`, as tch-rnn samples them."""
    index = {c: i for i, c in enumerate(vocab)}
    last, state = read_prime(model, [index[c] for c in prime], window or len(prime))
    drawn = []
    for _ in range(length):
        if temperature == 0:
            nxt = last.argmax(-1, keepdim=True)
        else:
            scaled = last / temperature
            if top_k:
                k = min(top_k, scaled.size(1))
                threshold = scaled.topk(k, -1).values[:, k - 1:k]
                scaled = scaled.masked_fill(scaled < threshold, float("-inf"))
            if top_p:
                ordered, order = scaled.sort(-1, descending=True)
                probs = ordered.softmax(-1)
                ordered = ordered.masked_fill(probs.cumsum(-1) - probs > top_p, float("-inf"))
                scaled = ordered.scatter(-1, order, ordered)
            nxt = scaled.softmax(-1).multinomial(1)
        logits, state = model(nxt, state)
        last = logits[:, 0]
        drawn.append(nxt)
    return "".join(vocab[i] for i in torch.cat(drawn).flatten().tolist()) if drawn else ""


def sample(args):
    config, vocab, model = load_checkpoint(Path(args.checkpoint))
    torch.manual_seed(args.seed)
    window = config["data"]["seq_len"]
    print(args.prime + generate(model, vocab, args.prime, args.length, args.temperature, args.top_k, args.top_p,
                                window))


@torch.no_grad()
def logits(args):
    torch.set_num_threads(1)
    config, vocab, model = load_checkpoint(Path(args.checkpoint))
    index = {c: i for i, c in enumerate(vocab)}
    out, _ = model(torch.tensor([[index[c] for c in args.input]]))
    for value in out.flatten().tolist():
        print(repr(value))


def command_line():
    """The parser of every subcommand and its flags (bench_worker.py reads its defaults too)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train")
    t.add_argument("--text", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--cell", default="lstm", choices=list(CELLS))
    for name, default in [("layers", 2), ("hidden", 256), ("embedding", 64), ("seq-len", 64), ("batch", 32),
                          ("steps", 2000), ("seed", 0), ("eval-every", 250), ("threads", 0)]:
        t.add_argument(f"--{name}", type=int, default=default)
    for name, default in [("dropout", 0.0), ("lr", 2e-3), ("clip", 5.0), ("beta1", 0.9), ("beta2", 0.999),
                          ("eps", 1e-8), ("momentum", 0.0), ("dampening", 0.0), ("lr-gamma", 0.5),
                          ("lr-eta-min", 0.0)]:
        t.add_argument(f"--{name}", type=float, default=default)
    for name, default in [("lr-step-size", 2), ("lr-patience", 2)]:
        t.add_argument(f"--{name}", type=int, default=default)
    t.add_argument("--weight-decay", type=float)
    t.add_argument("--lr-t-max", type=int)
    t.add_argument("--patience", type=int)
    t.add_argument("--val-text")
    t.add_argument("--timeout", type=int, default=1800)
    t.add_argument("--batching", default="random", choices=["random", "streams"])
    t.add_argument("--optimizer", default="adam", choices=["adam", "adamw", "sgd"])
    t.add_argument("--nesterov", default="false", choices=["true", "false"])
    t.add_argument("--lr-schedule", default="none", choices=["none", "step", "exponential", "cosine", "plateau"])
    s = commands.add_parser("sample")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--prime", default="\n")
    s.add_argument("--length", type=int, default=500)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-k", type=int)
    s.add_argument("--top-p", type=float)
    s.add_argument("--seed", type=int, default=0)
    g = commands.add_parser("logits")
    g.add_argument("--checkpoint", required=True)
    g.add_argument("--input", required=True)
    return parser


def main():
    args = command_line().parse_args()
    {"train": train, "sample": sample, "logits": logits}[args.command](args)


if __name__ == "__main__":
    main()
