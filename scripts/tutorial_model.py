"""The model of the tutorial's section 3.3 (scripts/pytorch/hello_embedding.py), importable by
the exporter and checker scripts: Embedding(4, 10) -> RNN(10, 8, num_layers=2,
batch_first=True) -> Linear(8, 4)."""

import torch

num_class, hidden_size, embedding_size, num_layers = 4, 8, 10, 2

# "hello" as dictionary indices, (batch_size, seq_len), and the labels "ohlol".
INPUTS = [[1, 0, 2, 2, 3]]
LABELS = [3, 1, 2, 3, 2]


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(num_class, embedding_size)
        self.rnn = torch.nn.RNN(input_size=embedding_size, hidden_size=hidden_size, num_layers=num_layers,
                                batch_first=True)
        self.fc = torch.nn.Linear(hidden_size, num_class)

    def forward(self, x):
        hidden = torch.zeros(num_layers, x.size(0), hidden_size)
        x = self.emb(x)
        x, _ = self.rnn(x, hidden)
        x = self.fc(x)
        return x.view(-1, num_class)
