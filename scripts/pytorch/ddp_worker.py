# One rank of a distributed job, started with torchrun's environment (MASTER_ADDR, MASTER_PORT,
# RANK, WORLD_SIZE): the PyTorch twin of examples/ddp_worker.rs, same modes, same output.
#   python scripts/pytorch/ddp_worker.py MODE [--seed S] [--steps K] [--size N] [--reps R] [--timeout SECONDS]
# collectives: allreduce, broadcast from every root, barrier; prints one JSON line
# train:       a 2-layer LSTM + Linear with DistributedDataParallel, CrossEntropyLoss, clipping
#              and Adam for K steps; prints the losses and final parameters as float bits
# bench:       times R allreduces of N floats after 5 warm-up ones; prints milliseconds
import argparse
import datetime
import gc
import json
import os
import time

import torch
import torch.distributed as dist
import torch.distributed.nn.functional  # noqa: F401  (before the group: see char_model.Ranks)

parser = argparse.ArgumentParser()
parser.add_argument("mode", choices=["collectives", "train", "bench"])
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--steps", type=int, default=5)
parser.add_argument("--size", type=int, default=1 << 20)
parser.add_argument("--reps", type=int, default=20)
parser.add_argument("--timeout", type=float, default=60)
args = parser.parse_args()

torch.set_num_threads(1)
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=args.timeout))  # env://
rank, world = dist.get_rank(), dist.get_world_size()


def bits(t):  # a float tensor's values as bits
    return [b & 0xFFFFFFFF for b in t.detach().flatten().view(torch.int32).tolist()]


def collectives():
    one = torch.tensor([rank + 1.0, 10.0 * (rank + 1.0)])
    dist.all_reduce(one)
    two = [torch.tensor([float(rank)]), torch.tensor([2.0 * rank, 0.5])]
    dist.all_reduce_coalesced(two)
    broadcast = []
    for root in range(world):
        mine = torch.tensor([float(rank), float(rank * rank)])
        dist.broadcast(mine, root)
        broadcast.append(mine.tolist())
    many = [torch.full((3,), float(rank)), torch.tensor([-float(rank)])]
    dist._broadcast_coalesced(dist.group.WORLD, many, 250 * 1024 * 1024, world - 1)
    dist.barrier()
    return {"rank": rank, "world": world, "local_rank": int(os.environ.get("LOCAL_RANK", rank)),
            "allreduce": one.tolist(), "allreduce_coalesced": [t.tolist() for t in two],
            "broadcast": broadcast, "broadcast_coalesced": [t.tolist() for t in many]}


class Model(torch.nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.lstm = torch.nn.LSTM(input_size=8, hidden_size=16, num_layers=2)
        self.fc = torch.nn.Linear(16, 4)

    def forward(self, x):
        x, _ = self.lstm(x)  # (seq_len, batch_size, hidden_size)
        return self.fc(x).view(-1, 4)  # (seq_len * batch_size, 4)


def train():
    torch.manual_seed(args.seed)
    model = Model()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    torch.manual_seed(args.seed * 1000 + rank + 1)  # each rank's own data
    data = [(torch.randn(5, 3, 8), torch.randint(0, 4, (15,))) for _ in range(args.steps)]
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for x, y in data:
        optimizer.zero_grad()
        loss = criterion(ddp(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses += bits(loss)
    return {"rank": rank, "losses": losses, "params": [bits(p) for p in model.parameters()]}


def bench():
    x = torch.ones(args.size)
    times = []
    for i in range(5 + args.reps):
        dist.barrier()
        started = time.perf_counter()
        dist.all_reduce(x)
        if i >= 5:
            times.append((time.perf_counter() - started) * 1e3)
    times.sort()
    return {"rank": rank, "world": world, "floats": args.size, "ms_median": times[len(times) // 2], "ms_min": times[0]}


print(json.dumps({"collectives": collectives, "train": train, "bench": bench}[args.mode]()))
dist.destroy_process_group()
gc.collect()  # the group freed and its Gloo threads joined before the interpreter exits
