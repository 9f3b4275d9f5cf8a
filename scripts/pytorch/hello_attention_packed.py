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
start = num_class  # 起始符号的索引：4，不在字典里
x_data = [[index2char.index(c) for c in word] for word in words]  # 用字典中的索引（数字）表示每个单词
y_data = [[index2char.index(c) for c in reversed(word)] for word in words]  # 标签：倒过来的单词
y_in_data = [[start] + y[:-1] for y in y_data]  # 解码器的输入：起始符号 + 上一步的标签（teacher forcing）
lengths = [len(x) for x in x_data]  # [5, 4, 5, 3]：没有排序，所以下面 enforce_sorted=False

inputs = torch.nn.utils.rnn.pad_sequence([torch.LongTensor(x) for x in x_data], batch_first=True)  # (batch_size, max_len)，用0补齐
decoder_inputs = torch.nn.utils.rnn.pad_sequence([torch.LongTensor(y) for y in y_in_data], batch_first=True)  # (batch_size, max_len)
labels = torch.nn.utils.rnn.pad_sequence([torch.LongTensor(y) for y in y_data], batch_first=True,
                                         padding_value=-100)  # (batch_size, max_len)，-100：交叉熵损失忽略补齐的位置
padding = torch.arange(inputs.size(1)).unsqueeze(0) >= torch.LongTensor(lengths).unsqueeze(1)  # (batch_size, max_len)，True：补齐的位置


# 3、构建模型
class Model(torch.nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.emb = torch.nn.Embedding(num_class + 1, embedding_size)  # +1：起始符号
        self.encoder = torch.nn.GRU(input_size=embedding_size, hidden_size=hidden_size, num_layers=num_layers,
                                    batch_first=True)
        self.decoder = torch.nn.GRU(input_size=embedding_size, hidden_size=hidden_size, num_layers=num_layers,
                                    batch_first=True)
        self.attn = torch.nn.MultiheadAttention(embed_dim=hidden_size, num_heads=1, batch_first=True)
        self.fc = torch.nn.Linear(2 * hidden_size, num_class)

    def forward(self, x, y_in, lengths, padding):
        x = torch.nn.utils.rnn.pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)  # 打包：每个单词只跑自己的字符
        encoder_outputs, hidden = self.encoder(x)  # hidden：每个单词自己最后一个字符之后的状态
        encoder_outputs, _ = torch.nn.utils.rnn.pad_packed_sequence(encoder_outputs, batch_first=True)  # (batch_size, max_len, hidden_size)
        decoder_outputs, _ = self.decoder(self.emb(y_in), hidden)  # (batch_size, max_len, hidden_size)，补齐的步在每个单词之后，不影响前面
        context, weights = self.attn(decoder_outputs, encoder_outputs, encoder_outputs,
                                     key_padding_mask=padding)  # 注意力不看补齐的位置
        x = self.fc(torch.cat([decoder_outputs, context], dim=2))  # (batch_size, max_len, num_class)
        return x.view(-1, num_class), weights  # (batch_size * max_len, num_class)，(batch_size, max_len, max_len)


net = Model()

# 4、损失和优化器
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=0.1)  # Adam优化器

# 5、训练
for epoch in range(15):
    optimizer.zero_grad()
    outputs, _ = net(inputs, decoder_inputs, lengths, padding)
    loss = criterion(outputs, labels.view(-1))
    loss.backward()
    optimizer.step()

    _, idx = outputs.max(dim=1)
    idx = idx.view(len(words), -1).data.numpy()
    predicted = [''.join([index2char[x] for x in row[:n]]) for row, n in zip(idx, lengths)]  # 每个单词只取自己的长度
    print('Predicted strings: ', ' '.join(predicted), end='')
    print(', Epoch [%d/15] loss: %.4f' % (epoch + 1, loss.item()))

# 6、注意力权重：每一行是一个输出字符，每一列是它看了多少输入字符；补齐的位置被遮住，权重为0
with torch.no_grad():
    _, weights = net(inputs, decoder_inputs, lengths, padding)
for i, (word, n) in enumerate(zip(words, lengths)):
    print('Attention weights (rows: %s, columns: %s):' % (word[::-1], word))
    print(weights[i, :n].round(decimals=2))  # (n, max_len)，保留两位小数
