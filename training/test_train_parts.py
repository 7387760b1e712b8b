#!/usr/bin/env python3
"""Checks of train.py's ensemble-distillation parts that the CPU smoke run does not reach: CutMix/mixup of a
batch, the teachers' averaged targets, and the teacher file round trip. Run by test/integration/training/smoke.test.ts.
Usage: /usr/bin/python3 training/test_train_parts.py   (exit status 0 when every check holds)"""
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import train  # noqa: E402


def check_mix():
    torch.manual_seed(0)
    np.random.seed(0)
    x = torch.rand(16, 3, 32, 32)
    y = torch.arange(16)
    same = train.mix_batch(x, y, 0.0)
    assert same[0] is x and same[3] == 1.0 and torch.equal(same[2], y), "p=0 must leave the batch alone"
    kinds = set()
    for _ in range(60):
        xm, ya, yb, lam = train.mix_batch(x, y, 1.0)
        assert torch.equal(ya, y) and 0.0 <= lam <= 1.0
        partner = x[yb]  # y is arange, so the partner labels are the permutation
        if torch.allclose(xm, lam * x + (1 - lam) * partner, atol=1e-6):
            kinds.add("mixup")
            continue
        i = int(torch.nonzero(yb != y)[0])  # a sample paired with another one
        pasted = (xm[i] == partner[i]).all(dim=0).float().mean().item()
        kept = (xm[i] == x[i]).all(dim=0).float().mean().item()
        assert abs(pasted + kept - 1) < 1e-6, "CutMix must take each pixel from the sample or its partner"
        assert abs(kept - lam) < 1e-6, "CutMix weight %.4f is not the kept area %.4f" % (lam, kept)
        kinds.add("cutmix")
    assert kinds == {"mixup", "cutmix"}, kinds


def check_teachers():
    torch.manual_seed(1)
    nets = [models.build("s-tiny", 13).eval(), models.build("s-tiny", 13).eval()]
    x = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        target = train.teacher_probs(nets, x, 2.0)
        expected = (F.softmax(nets[0](x) / 2.0, 1) + F.softmax(nets[1](x) / 2.0, 1)) / 2
        assert torch.allclose(target, expected, atol=1e-6)
        assert torch.allclose(target.sum(1), torch.ones(4), atol=1e-5)
        assert torch.allclose(train.teacher_probs(nets[0], x, 2.0), F.softmax(nets[0](x) / 2.0, 1), atol=1e-6)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.pt")
        train.save_teacher(nets[1], "s-tiny", 32, path)
        (back,) = train.load_teachers([path], 13, torch.device("cpu"), None, 32)
        with torch.no_grad():
            assert torch.equal(back(x), nets[1](x)), "a saved teacher must come back with the same outputs"
        assert not any(p.requires_grad for p in back.parameters())
        try:
            train.load_teachers([path], 13, torch.device("cpu"), None, 64)
        except SystemExit as e:
            assert "32 px" in str(e) and "64 px" in str(e), e
        else:
            raise AssertionError("a teacher trained at another size than the pack's must be refused")


def check_student_size():
    """A student smaller than the pack gets the same image, scaled down with antialiasing."""
    x = torch.rand(2, 3, 40, 40)
    assert train.to_size(x, 0) is x and train.to_size(x, 40) is x
    small = train.to_size(x, 20)
    assert small.shape == (2, 3, 20, 20)
    assert torch.allclose(train.to_size(torch.full((1, 3, 40, 40), 0.3), 16), torch.full((1, 3, 16, 16), 0.3))
    # one-pixel stripes average out when scaled down 2.5x with antialiasing (point sampling would keep stripes)
    stripes = (torch.arange(40) % 2).float().view(1, 1, 1, 40).expand(1, 3, 40, 40)
    assert (train.to_size(stripes, 16) - 0.5).abs().max() < 0.1


if __name__ == "__main__":
    check_mix()
    check_teachers()
    check_student_size()
    print("train parts: ok")
