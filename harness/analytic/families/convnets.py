"""Forward FLOP of the classic convnets, layer by layer: LeNet-5, AlexNet, VGG, GoogLeNet.

A convolution computes, for each of its N x C_out x H' x W' outputs, a dot product of length
(C_in / groups) x k_h x k_w, so it costs

    2 x N x H' x W' x C_out x (C_in / groups) x k_h x k_w   (2 FLOP per multiply-accumulate),

with H' = floor((H + 2p - k) / s) + 1 (`formulas.conv_out_size`). A fully connected layer of
n_in -> n_out costs 2 x N x n_in x n_out. Biases, activations, normalisation (LRN, BN) and
pooling are left out: the counter puts them in the elementwise, normalisation and reduction
categories, not conv or matmul, and the formulas here model only the matmul-class terms.

`ConvWalk` follows a network's layer list from its config (pure Python, no torch, no models
import), keeping track of channels and spatial size; the ResNet and mobile families reuse it.
"""

from __future__ import annotations

from typing import Any

from harness.analytic.breakdown import Breakdown, Component
from harness.analytic.formulas import conv_layer_flop, conv_out_size


def pool_out_size(size: int, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> int:
    """Pooling output size; ceil mode (Caffe's rounding) drops a last window starting in the padding."""
    span = size + 2 * padding - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def conv_flop(
    batch: int, c_in: int, c_out: int, kernel: int, size: int,
    stride: int = 1, padding: int = 0, groups: int = 1,
) -> tuple[int, int]:  # fmt: skip
    """(FLOP, output side) of a square conv on a square input."""
    out = conv_out_size(size, kernel, stride, padding)
    return conv_layer_flop(batch, c_in, c_out, (kernel, kernel), (out, out), groups), out


class ConvWalk:
    """Walk a feed-forward stack, accumulating one component per named group of layers.

    `conv` and `linear` add FLOP under `group` (consecutive calls with the same group and
    category merge into one component); `conv` and `pool` move the walk's (channels, side);
    `linear` leaves it alone (the flattened width is the caller's to track).
    """

    def __init__(self, batch: int, channels: int, size: int) -> None:
        self.batch, self.channels, self.size = batch, channels, size
        self._parts: list[list[Any]] = []  # [name, category, flop, formula terms]

    def add(self, group: str, category: str, flop: int, term: str) -> None:
        if self._parts and self._parts[-1][0] == group and self._parts[-1][1] == category:
            self._parts[-1][2] += flop
            self._parts[-1][3].append(term)
        else:
            self._parts.append([group, category, flop, [term]])

    def conv(
        self, group: str, c_out: int, kernel: int, stride: int = 1, padding: int = 0, groups: int = 1,
        c_in: int | None = None, size: int | None = None, advance: bool = True,
    ) -> int:  # fmt: skip
        """One conv from (c_in, size) (the walk's current state unless given); returns its output side.
        `advance=False` leaves the state alone (a side branch)."""
        c_in = self.channels if c_in is None else c_in
        size = self.size if size is None else size
        flop, out = conv_flop(self.batch, c_in, c_out, kernel, size, stride, padding, groups)
        g = f"/{groups}" if groups != 1 else ""
        self.add(group, "conv", flop, f"2*{self.batch}*{out}^2*{c_out}*{c_in}{g}*{kernel}^2")
        if advance:
            self.channels, self.size = c_out, out
        return out

    def pool(self, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> None:
        self.size = pool_out_size(self.size, kernel, stride, padding, ceil_mode)

    def linear(self, group: str, n_in: int, n_out: int, rows: int | None = None) -> None:
        rows = self.batch if rows is None else rows
        self.add(group, "matmul", 2 * rows * n_in * n_out, f"2*{rows}*{n_in}*{n_out}")

    def breakdown(self) -> Breakdown:
        return tuple(Component(n, c, f, " + ".join(t) if len(t) <= 4 else f"sum of {len(t)}: {t[0]} + ...")
                     for n, c, f, t in self._parts)  # fmt: skip


def lenet(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    """LeNet-5 (LeCun et al. 1998, Sec. II.B, Table I).

    C1: 5x5 convs, in -> 6 maps. S2, S4: 2x2 sub-sampling (pooling, not counted here). C3:
    each of the 16 maps convolves only the S2 maps Table I connects it to, so its weights are
    sum_i |table_i| x 25 (60 connections x 25 = 1,500 at full size), each applied at every
    output position: 2 N H'W' x 1,500. C5: 5x5 convs over all 16 maps. F6: a linear layer
    c5 x side^2 -> 84. The RBF output (squared distances) is elementwise work, not modelled.
    """
    k = cfg.kernel
    w = ConvWalk(batch, cfg.in_channels, cfg.image_size)
    w.conv("C1", cfg.c1, k)
    w.pool(2, 2)
    connections = sum(len(row) for row in cfg.c3_table)  # Table I: the maps each C3 map reads
    out = conv_out_size(w.size, k)
    w.add("C3", "conv", 2 * batch * out * out * connections * k * k, f"2*{batch}*{out}^2*{connections}*{k}^2")
    w.channels, w.size = len(cfg.c3_table), out
    w.pool(2, 2)
    w.conv("C5", cfg.c5, k)
    w.linear("F6", cfg.c5 * w.size * w.size, cfg.f6)
    return w.breakdown()


def alexnet(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    """AlexNet (Krizhevsky et al. 2012, Sec. 3.5, Fig. 2).

    conv1 11x11/4 (no padding), conv2 5x5 pad 2, conv3-5 3x3 pad 1, with the two-GPU split as
    groups (conv2, conv4, conv5 see half the input maps: the (C_in / groups) factor). Max-pools
    3x3/2 after conv1, conv2, conv5 (LRN keeps the size). FC6 (c5 x 6 x 6 -> 4096), FC7, FC8.
    """
    w = ConvWalk(batch, cfg.in_channels, cfg.image_size)
    kernels = ((11, 4, 0), (5, 1, 2), (3, 1, 1), (3, 1, 1), (3, 1, 1))
    for i, (c, g, (k, s, p)) in enumerate(zip(cfg.conv, cfg.groups, kernels), start=1):
        w.conv(f"conv{i}", c, k, s, p, g)
        if i in (1, 2, 5):
            w.pool(3, 2)
    n_in = w.channels * w.size * w.size
    for i, f in enumerate((*cfg.fc, cfg.n_classes), start=6):
        w.linear(f"fc{i}", n_in, f)
        n_in = f
    return w.breakdown()


def vgg(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    """VGG (Simonyan & Zisserman 2014, Sec. 2.1, Table 1).

    Every conv is 3x3, stride 1, padding 1 (size kept): 2 N H W C_out C_in 9; "M" halves H, W.
    Then FC layers over the c x 7 x 7 map: 2 N (c 49) 4096, 2 N 4096^2, 2 N 4096 x classes.
    """
    w = ConvWalk(batch, cfg.in_channels, cfg.image_size)
    block = 1
    for v in cfg.layers:
        if v == "M":
            w.pool(2, 2)
            block += 1
        else:
            w.conv(f"conv{block}", int(v), 3, 1, 1)
    n_in = w.channels * w.size * w.size
    for i, f in enumerate((*cfg.fc, cfg.n_classes), start=6):
        w.linear(f"fc{i}", n_in, f)
        n_in = f
    return w.breakdown()


def inception(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    """GoogLeNet / Inception v1 (Szegedy et al. 2014, Table 1, Fig. 2b, Sec. 5).

    Stem: conv 7x7/2 pad 3, max-pool 3x3/2 (ceil), conv 1x1, conv 3x3 pad 1, max-pool 3x3/2.
    Each Inception module at side s from C_in channels: 2 N s^2 x [C_in (#1x1 + #3x3red +
    #5x5red + pool proj) + 9 #3x3red #3x3 + 25 #5x5red #5x5] (the 3x3 and 5x5 are padded to
    keep s). Classifier: global average pool, linear C -> classes. Auxiliary classifiers
    (when configured): avg-pool 5x5/3, 1x1 conv to 128, FC 128 s'^2 -> 1024, FC 1024 -> classes.
    """
    c1, r2, c2 = cfg.stem
    w = ConvWalk(batch, cfg.in_channels, cfg.image_size)
    w.conv("stem", c1, 7, 2, 3)
    w.pool(3, 2, ceil_mode=True)
    w.conv("stem", r2, 1)
    w.conv("stem", c2, 3, 1, 1)
    w.pool(3, 2, ceil_mode=True)
    for spec in cfg.modules:
        if spec == "M":
            w.pool(3, 2, ceil_mode=True)
            continue
        name, n1, r3, n3, r5, n5, pp = spec
        group = f"inception{name}"
        w.conv(group, n1, 1, advance=False)
        w.conv(group, r3, 1, advance=False)
        w.conv(group, n3, 3, 1, 1, c_in=r3, advance=False)
        w.conv(group, r5, 1, advance=False)
        w.conv(group, n5, 5, 1, 2, c_in=r5, advance=False)
        w.conv(group, pp, 1, advance=False)  # after a 3x3/1 max-pool, pad 1: size kept
        w.channels = n1 + n3 + n5 + pp
        if name in cfg.aux_after:
            proj, hidden = cfg.aux
            side = pool_out_size(w.size, 5, 3)
            w.conv(f"aux{name}", proj, 1, size=side, advance=False)
            w.linear(f"aux{name}", proj * side * side, hidden)
            w.linear(f"aux{name}", hidden, cfg.n_classes)
    w.linear("classifier", w.channels, cfg.n_classes)
    return w.breakdown()


FORMULAS = {"lenet": lenet, "alexnet": alexnet, "vgg": vgg, "inception": inception}
