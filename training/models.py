"""Networks for MarrowCount. Plain 3x3-conv ResNet-style nets (fast in onnxruntime's CPU kernels)."""
import torch
import torch.nn as nn


def conv_bn(cin, cout, stride=1, act=True):
    layers = [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = conv_bn(cin, cout, stride)
        self.c2 = conv_bn(cout, cout, 1, act=False)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        s = x if self.short is None else self.short(x)
        return self.act(self.c2(self.c1(x)) + s)


class ResNetS(nn.Module):
    """stem: conv s2 -> conv (-> optional maxpool-free s2 conv); then stages of basic blocks."""

    def __init__(self, n_classes, stem=(24, 32), widths=(48, 96, 192), depths=(1, 1, 1), drop=0.1):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, stem[0], 2), conv_bn(stem[0], stem[1], 1))
        layers, cin = [], stem[1]
        for w, d in zip(widths, depths):
            for i in range(d):
                layers.append(Block(cin, w, 2 if i == 0 else 1))
                cin = w
        self.stages = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(drop)
        self.fc = nn.Linear(cin, n_classes)

    def embed(self, x):
        """The pooled features the last layer reads: what the app stores per cell and scores for open-set."""
        return torch.flatten(self.pool(self.stages(self.stem(x))), 1)

    def forward(self, x):
        return self.fc(self.drop(self.embed(x)))


class WithEmbedding(nn.Module):
    """Export wrapper: (logits, embedding) from the same forward pass."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        z = self.net.embed(x)
        return self.net.fc(z), z


ARCHS = {
    # student candidates (app model)
    "s-tiny": dict(stem=(16, 24), widths=(32, 64, 128), depths=(1, 1, 1)),
    "s-small": dict(stem=(24, 32), widths=(48, 96, 192), depths=(1, 1, 1)),
    "s-med": dict(stem=(24, 32), widths=(48, 96, 192), depths=(1, 2, 2)),
    "s-wide": dict(stem=(24, 32), widths=(64, 128, 256), depths=(1, 1, 1)),
    "s-student": dict(stem=(16, 24), widths=(40, 80, 160), depths=(1, 1, 2)),   # shipped: 88.7 MMACs @112
    # teacher
    "teacher": dict(stem=(32, 64), widths=(96, 192, 384, 512), depths=(2, 2, 2, 1)),
    "teacher-b": dict(stem=(32, 48), widths=(80, 160, 320, 480), depths=(1, 2, 3, 2)),  # ensemble diversity
}


def build(name, n_classes):
    return ResNetS(n_classes, **ARCHS[name])


def count_macs(model, size):
    macs = [0]

    def hook(m, i, o):
        if isinstance(m, nn.Conv2d):
            macs[0] += o.numel() // o.shape[0] * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            macs[0] += m.in_features * m.out_features
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in hs:
        h.remove()
    return macs[0]
