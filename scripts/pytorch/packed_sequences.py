import torch
import sys
torch.manual_seed(int(sys.argv[1]) if len(sys.argv) > 1 else 0)

# 1、确定参数
num_class = 4
embedding_size = 10
hidden_size = 8
num_layers = 1

# 2、准备数据：长度不同的四个单词，任务是把每个单词倒过来（"hello" --> "olleh"）
index2char = ['e', 'h', 'l', 'o']  #字典
words = ['hello', 'hell', 'ohlol', 'lol']
x_data = [[index2char.index(c) for c in word] for word in words]  # 用字典中的索引（数字）表示每个单词
y_data = [[index2char.index(c) for c in reversed(word)] for word in words]  # 标签：倒过来的单词
lengths = [len(x) for x in x_data]  # [5, 4, 5, 3]：没有排序，所以下面 enforce_sorted=False

inputs = torch.nn.utils.rnn.pad_sequence([torch.LongTensor(x) for x in x_data], batch_first=True)  # (batch_size, max_len)，用0补齐
labels = torch.nn.utils.rnn.pad_sequence([torch.LongTensor(y) for y in y_data], batch_first=True,
                                         padding_value=-100)  # (batch_size, max_len)，-100：交叉熵损失忽略补齐的位置


# 3、构建模型
class Model(torch.nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.emb = torch.nn.Embedding(num_class, embedding_size)
        self.rnn = torch.nn.LSTM(input_size=embedding_size, hidden_size=hidden_size, num_layers=num_layers,
                                 batch_first=True, bidirectional=True)
        self.fc = torch.nn.Linear(2 * hidden_size, num_class)

    def forward(self, x, lengths):
        x = self.emb(x)  # (batch_size, max_len, embedding_size)
        x = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)  # 打包：每个单词只跑自己的字符
        x, _ = self.rnn(x)  # PackedSequence，反向的LSTM从每个单词自己的最后一个字符开始
        x, _ = torch.nn.utils.rnn.pad_packed_sequence(x, batch_first=True)  # (batch_size, max_len, 2 * hidden_size)
        x = self.fc(x)  # (batch_size, max_len, num_class)
        return x.view(-1, num_class)  # (batch_size * max_len, num_class)


net = Model()

# 4、损失和优化器
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=0.1)  # Adam优化器

# 5、训练
for epoch in range(15):
    optimizer.zero_grad()
    outputs = net(inputs, lengths)
    loss = criterion(outputs, labels.view(-1))
    loss.backward()
    optimizer.step()

    _, idx = outputs.max(dim=1)
    idx = idx.view(len(words), -1).data.numpy()
    predicted = [''.join([index2char[x] for x in row[:n]]) for row, n in zip(idx, lengths)]  # 每个单词只取自己的长度
    print('Predicted strings: ', ' '.join(predicted), end='')
    print(', Epoch [%d/15] loss: %.4f' % (epoch + 1, loss.item()))
