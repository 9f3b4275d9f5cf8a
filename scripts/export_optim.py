"""Trains the tutorial's Embedding + RNN + Linear model (section 3.3) with torch.optim's
optimizers and schedulers and exports what each run went through, for tests/adam_parity.rs,
tests/optim_parity.rs and the live test (tests/live_parity.rs, via scripts/live_reference.py).

1. optim/adam_hello_embedding.safetensors: torch.optim.Adam runs, the tutorial's settings for two
   seeds and runs that exercise Adam's other options, with keys "<run>/initial/<name>",
   "<run>/final/<name>", "<run>/losses" and "<run>/options/<option>" (a float64 scalar per Adam
   argument; "seed" too).
2. optim/optim_runs.safetensors and optim/optim_runs.json: runs of AdamW, SGD (plain, momentum,
   Nesterov, dampening, weight decay, maximize, two parameter groups), Adam with two groups, and
   each scheduler (StepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau on the loss)
   driving an optimizer. Tensors: "<run>/initial/<name>", "<run>/step_<k>/<name>" (the
   parameters after step k = 1..STEPS), "<run>/lrs" (float64 [STEPS + 1, groups]: row k - 1 the
   learning rates step k used, the last row those after the last scheduler step),
   "<run>/losses", and "<run>/resume/state/<index>/<entry>" (the optimizer's state_dict()
   "state" after step RESUME_AT). The JSON gives, per run, the optimizer, its groups (parameter
   names in named_parameters() order, the arguments given, PyTorch's defaults for the rest), the
   scheduler and its arguments, and, after step RESUME_AT, the optimizer's state_dict()
   "param_groups", the names of each parameter's state entries and the scheduler's
   state_dict(). Every float in the JSON is written as {"float": repr(x)}, which Rust parses
   exactly.

Every file is written atomically.
Run with the Python that scripts/setup.sh installed:
    .venv/bin/python scripts/export_optim.py [--root DIR]
"""

import json
from pathlib import Path

import torch

from fixture_io import argument_parser, save_tensors, write_atomically
from tutorial_model import INPUTS, LABELS, Model

FILE = "optim/adam_hello_embedding.safetensors"
EPOCHS = 15
TUTORIAL = dict(lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False)
RUNS = {
    "seed_0": dict(seed=0, **TUTORIAL),
    "seed_7": dict(seed=7, **TUTORIAL),
    "seed_0_weight_decay_amsgrad": dict(TUTORIAL, seed=0, weight_decay=0.01, amsgrad=True),
    "seed_7_maximize_betas_eps": dict(TUTORIAL, seed=7, lr=0.01, betas=(0.8, 0.99), eps=1e-6, maximize=True),
}


def train(options: dict, tensors: dict, run: str) -> None:
    inputs = torch.LongTensor(INPUTS)
    labels = torch.LongTensor(LABELS)
    torch.manual_seed(options["seed"])
    net = Model()
    for name, value in net.state_dict().items():
        tensors[f"{run}/initial/{name}"] = value.clone()
    criterion = torch.nn.CrossEntropyLoss()
    adam_args = {k: v for k, v in options.items() if k != "seed"}
    optimizer = torch.optim.Adam(net.parameters(), **adam_args)
    losses = []
    for _ in range(EPOCHS):
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().clone())
    for name, value in net.state_dict().items():
        tensors[f"{run}/final/{name}"] = value.clone()
    tensors[f"{run}/losses"] = torch.stack(losses)
    flat = dict(options, beta1=options["betas"][0], beta2=options["betas"][1])
    del flat["betas"]
    for key, value in flat.items():
        tensors[f"{run}/options/{key}"] = torch.tensor(float(value), dtype=torch.float64)


OPTIM_FILE = "optim/optim_runs.safetensors"
OPTIM_JSON = "optim/optim_runs.json"
STEPS = EPOCHS
RESUME_AT = 7
# The tutorial model's parameters in named_parameters() order, split into two groups: the
# embedding and the RNN, and the final Linear layer.
PARAM_NAMES = [name for name, _ in Model().named_parameters()]
BODY = [name for name in PARAM_NAMES if not name.startswith("fc.")]
HEAD = [name for name in PARAM_NAMES if name.startswith("fc.")]


def one_group(**options) -> list:
    return [dict(params=PARAM_NAMES, options=options)]


def two_groups(body: dict, head: dict) -> list:
    return [dict(params=BODY, options=body), dict(params=HEAD, options=head)]


SGD_TWO_GROUPS = two_groups(dict(lr=0.1, momentum=0.9),
                            dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.001))
# Each run: the seed of the initial parameters, the optimizer with its groups (the arguments
# given; PyTorch's defaults for the rest, which the Rust side must share), and the scheduler.
OPTIM_RUNS = {
    "adamw_default": dict(seed=0, optimizer="AdamW", groups=one_group(lr=0.05)),
    "adamw_amsgrad_betas_eps": dict(seed=7, optimizer="AdamW", groups=one_group(
        lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    "adamw_maximize": dict(seed=0, optimizer="AdamW", groups=one_group(lr=0.01, weight_decay=0.05, maximize=True)),
    "sgd_plain": dict(seed=0, optimizer="SGD", groups=one_group(lr=0.1)),
    "sgd_momentum": dict(seed=7, optimizer="SGD", groups=one_group(lr=0.1, momentum=0.9)),
    "sgd_nesterov": dict(seed=0, optimizer="SGD", groups=one_group(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_dampening": dict(seed=7, optimizer="SGD", groups=one_group(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd_weight_decay": dict(seed=0, optimizer="SGD", groups=one_group(lr=0.1, momentum=0.5, weight_decay=0.01)),
    "sgd_maximize": dict(seed=7, optimizer="SGD", groups=one_group(lr=0.05, momentum=0.8, maximize=True)),
    "sgd_two_groups": dict(seed=0, optimizer="SGD", groups=SGD_TWO_GROUPS),
    "adam_two_groups": dict(seed=7, optimizer="Adam", groups=two_groups(
        dict(lr=0.05, amsgrad=True), dict(lr=0.02, weight_decay=0.01))),
    "steplr_sgd": dict(seed=0, optimizer="SGD", groups=one_group(lr=0.2, momentum=0.9),
                       scheduler=dict(kind="StepLR", options=dict(step_size=4, gamma=0.5))),
    "exponentiallr_adam": dict(seed=7, optimizer="Adam", groups=one_group(lr=0.05),
                               scheduler=dict(kind="ExponentialLR", options=dict(gamma=0.8))),
    "cosine_adamw": dict(seed=0, optimizer="AdamW", groups=one_group(lr=0.05),
                         scheduler=dict(kind="CosineAnnealingLR", options=dict(T_max=6, eta_min=0.001))),
    "cosine_sgd_two_groups": dict(seed=7, optimizer="SGD", groups=SGD_TWO_GROUPS,
                                  scheduler=dict(kind="CosineAnnealingLR", options=dict(T_max=4))),
    "plateau_sgd_two_groups": dict(seed=0, optimizer="SGD", groups=SGD_TWO_GROUPS, scheduler=dict(
        kind="ReduceLROnPlateau",
        options=dict(factor=0.5, patience=1, threshold=0.15, cooldown=1, min_lr=[0.02, 0.01]))),
    "plateau_adam_max_abs": dict(seed=7, optimizer="Adam", groups=one_group(lr=0.05), scheduler=dict(
        kind="ReduceLROnPlateau",
        options=dict(mode="max", threshold_mode="abs", threshold=0.01, patience=2, factor=0.3, cooldown=2,
                     min_lr=0.005))),
}
OPTIMIZERS = {"Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "SGD": torch.optim.SGD}
SCHEDULERS = {
    "StepLR": torch.optim.lr_scheduler.StepLR,
    "ExponentialLR": torch.optim.lr_scheduler.ExponentialLR,
    "CosineAnnealingLR": torch.optim.lr_scheduler.CosineAnnealingLR,
    "ReduceLROnPlateau": torch.optim.lr_scheduler.ReduceLROnPlateau,
}


def tagged(value):
    """`value` for the JSON file, each float as {"float": repr(x)} (exact once parsed in Rust)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, (list, tuple)):
        return [tagged(v) for v in value]
    if isinstance(value, dict):
        return {str(k): tagged(v) for k, v in value.items()}
    raise TypeError(f"cannot export {type(value).__name__} {value!r}")


def train_optim(spec: dict, tensors: dict, run: str) -> dict:
    """Trains one run of OPTIM_RUNS into `tensors`; returns its JSON description."""
    inputs = torch.LongTensor(INPUTS)
    labels = torch.LongTensor(LABELS)
    torch.manual_seed(spec["seed"])
    net = Model()
    named = dict(net.named_parameters())
    for name, value in net.state_dict().items():
        tensors[f"{run}/initial/{name}"] = value.clone()
    groups = [dict(params=[named[n] for n in g["params"]], **g["options"]) for g in spec["groups"]]
    optimizer = OPTIMIZERS[spec["optimizer"]](groups)
    scheduler_spec = spec.get("scheduler")
    scheduler = None
    if scheduler_spec is not None:
        scheduler = SCHEDULERS[scheduler_spec["kind"]](optimizer, **scheduler_spec["options"])
    criterion = torch.nn.CrossEntropyLoss()
    losses, lrs = [], []
    resume = None
    for step in range(1, STEPS + 1):
        lrs.append([float(g["lr"]) for g in optimizer.param_groups])
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels)
        loss.backward()
        optimizer.step()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(loss.detach())
        elif scheduler is not None:
            scheduler.step()
        losses.append(loss.detach().clone())
        for name, value in net.state_dict().items():
            tensors[f"{run}/step_{step:02}/{name}"] = value.clone()
        if step == RESUME_AT:
            saved = optimizer.state_dict()
            for index, entries in saved["state"].items():
                for entry, value in entries.items():
                    tensors[f"{run}/resume/state/{index}/{entry}"] = value.clone()
            resume = dict(
                param_groups=tagged(saved["param_groups"]),
                state={str(i): sorted(entries) for i, entries in saved["state"].items()},
                scheduler=None if scheduler is None else tagged(scheduler.state_dict()),
            )
    lrs.append([float(g["lr"]) for g in optimizer.param_groups])
    tensors[f"{run}/losses"] = torch.stack(losses)
    tensors[f"{run}/lrs"] = torch.tensor(lrs, dtype=torch.float64)
    return dict(seed=spec["seed"], optimizer=spec["optimizer"], groups=tagged(spec["groups"]),
                scheduler=tagged(scheduler_spec), resume=resume)


def export_optim_runs(root: Path) -> None:
    tensors, runs = {}, {}
    for run, spec in OPTIM_RUNS.items():
        runs[run] = train_optim(spec, tensors, run)
    description = dict(generator="scripts/export_optim.py", torch_version=torch.__version__, steps=STEPS,
                       resume_at=RESUME_AT, params=PARAM_NAMES, runs=runs)
    save_tensors(tensors, root / OPTIM_FILE)
    write_atomically(root / OPTIM_JSON, (json.dumps(description, indent=1) + "\n").encode())


def export(root: Path) -> str:
    """Trains every run single-threaded and writes the file under `root`; returns a summary."""
    torch.set_num_threads(1)
    tensors = {}
    for run, options in RUNS.items():
        train(options, tensors, run)
    save_tensors(tensors, root / FILE)
    export_optim_runs(root)
    return f"{len(RUNS)} Adam training runs, {len(OPTIM_RUNS)} runs of AdamW, SGD, Adam and the schedulers"


def main() -> None:
    root = argument_parser(__doc__).parse_args().root
    print(f"export_optim: {export(root)} in {root / FILE}, {root / OPTIM_FILE} and {root / OPTIM_JSON}")


if __name__ == "__main__":
    main()
