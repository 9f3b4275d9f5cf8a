import torch
import sys
torch.manual_seed(int(sys.argv[1]) if len(sys.argv) > 1 else 0)

# 1、确定参数
num_class = 4
hidden_size = 8
embedding_size = 10
num_layers = 1
batch_size = 1
seq_len = 5

# 2、准备数据
index2char = ['e', 'h', 'l', 'o']  #字典
x_data = [[1, 0, 2, 2, 3]]  # (batch_size, seq_len) 用字典中的索引（数字）表示来表示hello
y_data = [3, 1, 2, 3, 2]  #  (batch_size * seq_len) 标签：ohlol
start = num_class  # 起始符号的索引：4，不在字典里
y_in_data = [[start] + y_data[:-1]]  # (batch_size, seq_len) 解码器的输入：起始符号 + 上一步的标签（teacher forcing）

inputs = torch.LongTensor(x_data)  # (batch_size, seq_len)
decoder_inputs = torch.LongTensor(y_in_data)  # (batch_size, seq_len)
labels = torch.LongTensor(y_data)  # (batch_size * seq_len)


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

    def forward(self, x, y_in):
        encoder_outputs, hidden = self.encoder(self.emb(x))  # (batch_size, seq_len, hidden_size)，编码器最后的隐藏状态
        decoder_outputs, _ = self.decoder(self.emb(y_in), hidden)  # (batch_size, seq_len, hidden_size)，从编码器的状态开始
        context, weights = self.attn(decoder_outputs, encoder_outputs, encoder_outputs)  # 解码器的每一步在编码器的输出上做注意力
        x = self.fc(torch.cat([decoder_outputs, context], dim=2))  # (batch_size, seq_len, num_class)
        return x.view(-1, num_class), weights  # (batch_size * seq_len, num_class)，(batch_size, seq_len, seq_len)


net = Model()

# 4、损失和优化器
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=0.05)  # Adam优化器

# 5、训练
for epoch in range(15):
    optimizer.zero_grad()
    outputs, _ = net(inputs, decoder_inputs)
    loss = criterion(outputs, labels)
    loss.backward()
    optimizer.step()

    _, idx = outputs.max(dim=1)
    idx = idx.data.numpy()
    print('Predicted string: ', ''.join([index2char[x] for x in idx]), end='')
    print(', Epoch [%d/15] loss: %.4f' % (epoch + 1, loss.item()))

# 6、注意力权重：每一行是一个输出字符，每一列是它看了多少输入字符
with torch.no_grad():
    _, weights = net(inputs, decoder_inputs)
print('Attention weights (rows: ohlol, columns: hello):')
print(weights[0].round(decimals=2))  # (seq_len, seq_len)，保留两位小数
