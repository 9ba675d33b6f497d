"""Networks of game-playing and control agents: DQN, AlphaGo Zero / AlphaZero, OpenAI Five, CURL,
and the XLand agent (GOAT).

Each is the network the agent trains; the search (MCTS), the environment and the RL losses are
outside it. Where an agent has several heads, `forward` returns them concatenated along the last
dim (in the order its docstring gives), so that the default training count (the sum of the first
output) runs the backward through every head.

    DQN            Mnih et al. 2013 (NIPS workshop, arXiv:1312.5602) Sec. 4.1; Mnih et al. 2015
                   (Nature 518) Methods, "Model architecture".
    AlphaGo Zero   Silver et al. 2017 (Nature 550) Methods, "Neural network architecture".
    AlphaZero      Silver et al. 2018 (Science 362) Supplementary Materials, "Architecture".
    OpenAI Five    Berner et al. 2019 (arXiv:1912.06680), model section and Appendix H (Fig. 17).
    CURL           Srinivas, Laskin & Abbeel 2020 (ICML, arXiv:2004.04136) Sec. 4 and App. B,
                   on the SAC encoder of Yarats et al. 2019 (SAC+AE).
    GOAT           Open Ended Learning Team 2021 (arXiv:2107.12808) Sec. 5.1 (Fig. 11).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models._entry import Entry, Facts

# ======================================================================== DQN


@dataclass(frozen=True)
class DQNConfig:
    in_channels: int = 4  # m = 4 most recent preprocessed frames, stacked (phi)
    image_size: int = 84  # frames rescaled to 84 x 84 luminance
    # (filters, kernel, stride) of each convolution
    convs: tuple[tuple[int, int, int], ...] = ((32, 8, 4), (64, 4, 2), (64, 3, 1))
    d_hidden: int = 512  # the fully connected rectifier layer
    n_actions: int = 18  # one output per action: 4 to 18 by game; 18 = the full Atari set


class DQN(nn.Module):
    """Convolutions without padding, each followed by a rectifier; one hidden linear layer; a
    linear output of one Q-value per action."""

    def __init__(self, cfg: DQNConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, size = cfg.in_channels, cfg.image_size
        for filters, kernel, stride in cfg.convs:
            layers += [nn.Conv2d(c, filters, kernel, stride), nn.ReLU()]
            c, size = filters, (size - kernel) // stride + 1
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c * size * size, cfg.d_hidden)
        self.out = nn.Linear(cfg.d_hidden, cfg.n_actions)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.fc(self.features(frames).flatten(1))))  # [B, actions]


def dqn_inputs(cfg: DQNConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    return (torch.randn(batch, cfg.in_channels, cfg.image_size, cfg.image_size, device=device),)


DQN_NATURE = DQNConfig()
DQN_NIPS = DQNConfig(convs=((16, 8, 4), (32, 4, 2)), d_hidden=256)
DQN_TINY = DQNConfig(in_channels=2, image_size=20, convs=((4, 4, 2), (8, 3, 2)), d_hidden=16, n_actions=4)


# ======================================================================== AlphaGo Zero / AlphaZero


@dataclass(frozen=True)
class AlphaZeroConfig:
    board: int = 19  # N x N board
    in_planes: int = 17  # Go: 8 history planes per player + colour to play
    filters: int = 256  # every convolution of the tower: 256 filters, 3 x 3, stride 1
    n_res_blocks: int = 39  # residual blocks after the first convolutional block (19 or 39)
    policy_head: str = "fc"  # "fc": AGZ, 1x1 conv of 2 filters then a linear layer to N^2 + 1 moves;
    #                          "conv": AlphaZero chess/shogi, planes of move logits
    policy_filters: int = 2  # AGZ: the policy head's 1x1 convolution
    policy_planes: int = 73  # AlphaZero chess: 8 x 8 x 73 move planes (shogi 139)
    policy_kernel: int = 3  # AlphaZero "conv" head kernels: unstated; 3 x 3 as Leela Chess Zero reads it
    value_filters: int = 1  # value head: 1x1 convolution of 1 filter
    value_hidden: int = 256  # then a rectified linear layer of 256, then tanh(linear -> 1)

    @property
    def n_policy(self) -> int:
        if self.policy_head == "fc":
            return self.board * self.board + 1  # every intersection + pass
        return self.policy_planes * self.board * self.board


def conv_bn(c_in: int, c_out: int, kernel: int) -> nn.Sequential:
    """Convolution without bias (batch norm follows), batch normalisation."""
    conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(c_out))


class ResidualBlock(nn.Module):
    """conv-BN-ReLU, conv-BN, + input, ReLU."""

    def __init__(self, filters: int) -> None:
        super().__init__()
        self.conv1 = conv_bn(filters, filters, 3)
        self.conv2 = conv_bn(filters, filters, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class AlphaZeroNet(nn.Module):
    """Residual tower + policy and value heads. Output [B, n_policy + 1]: policy logits, value."""

    def __init__(self, cfg: AlphaZeroConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n2 = cfg.board * cfg.board
        self.stem = conv_bn(cfg.in_planes, cfg.filters, 3)
        self.tower = nn.Sequential(*(ResidualBlock(cfg.filters) for _ in range(cfg.n_res_blocks)))
        if cfg.policy_head == "fc":
            self.policy_conv = conv_bn(cfg.filters, cfg.policy_filters, 1)
            self.policy_out: nn.Module = nn.Linear(cfg.policy_filters * n2, cfg.n_policy)
        else:
            k = cfg.policy_kernel
            self.policy_conv = conv_bn(cfg.filters, cfg.filters, k)
            self.policy_out = nn.Conv2d(cfg.filters, cfg.policy_planes, k, padding=k // 2)
        self.value_conv = conv_bn(cfg.filters, cfg.value_filters, 1)
        self.value_fc = nn.Linear(cfg.value_filters * n2, cfg.value_hidden)
        self.value_out = nn.Linear(cfg.value_hidden, 1)

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        x = self.tower(F.relu(self.stem(planes)))
        p = F.relu(self.policy_conv(x))
        p = self.policy_out(p.flatten(1) if self.cfg.policy_head == "fc" else p).flatten(1)
        v = F.relu(self.value_conv(x)).flatten(1)
        v = torch.tanh(self.value_out(F.relu(self.value_fc(v))))
        return torch.cat([p, v], dim=1)


def alphazero_inputs(cfg: AlphaZeroConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    return (torch.randn(batch, cfg.in_planes, cfg.board, cfg.board, device=device),)


AGZ_40 = AlphaZeroConfig()
AZ_CHESS = AlphaZeroConfig(board=8, in_planes=119, n_res_blocks=19, policy_head="conv")
AZ_TINY = AlphaZeroConfig(board=5, in_planes=3, filters=8, n_res_blocks=2, value_hidden=8)
AZ_TINY_CONV = AlphaZeroConfig(
    board=4, in_planes=5, filters=8, n_res_blocks=1, policy_head="conv", policy_planes=3, value_hidden=8
)


# ======================================================================== OpenAI Five


@dataclass(frozen=True)
class OpenAIFiveConfig:
    """One example is one team: the five heroes' policy replicas share every weight.

    The paper fixes the core (a single-layer LSTM of 4096 units) and the total (~159M). The
    observation encoders are drawn in Fig. 17 without widths; the widths here are chosen, and
    `d_hero` is set so that the total lands on 159M.
    """

    n_heroes: int = 5  # heroes of a team, each its own replica of the policy
    unit_groups: tuple[int, ...] = (5, 5, 60, 60, 59)  # unit slots: allied heroes, enemy heroes,
    #   allied non-heroes, enemy non-heroes, neutrals: 189 slots, chosen
    unit_features: int = 43  # continuous features per unit (health, position, stats, ...): chosen
    n_unit_types: int = 512  # unit-type vocabulary of the type embedding: chosen
    d_unit_type: int = 64  # unit-type embedding: chosen
    d_unit: int = 256  # per-unit embedding (two FC-ReLU layers): chosen
    n_global: int = 32  # global continuous features (time, glyph, courier, ...): chosen
    d_global: int = 256  # FC-ReLU over the globals: chosen
    n_hero_types: int = 117  # hero embedding vocabulary: about Dota 2's hero count in 2019
    d_hero: int = 428  # hero embedding: the free width that brings the total to 159M
    cross_hero_fraction: int = 4  # "cross-hero pool": max over the 5 heroes of the first 1/4
    d_lstm: int = 4096  # "a single-layer 4096-unit LSTM", the policy's main component
    n_action_types: int = 30  # primary action logits (move, attack, abilities, items, ...): chosen
    action_params: tuple[int, ...] = (9, 9, 4)  # offset X, offset Y, delay: Fig. 17's heads
    d_key: int = 128  # target-unit head: dot product of an LSTM query with per-unit keys
    seq_len: int = 16  # LSTM unroll length in training (App. C hyperparameters)

    @property
    def n_units(self) -> int:
        return sum(self.unit_groups)

    @property
    def d_flat(self) -> int:
        """Flattened observation: a max-pool per unit group, the 10 hero slots, the globals."""
        n_hero_slots = self.unit_groups[0] + self.unit_groups[1]
        return (len(self.unit_groups) + n_hero_slots) * self.d_unit + self.d_global

    @property
    def d_lstm_in(self) -> int:
        return self.d_flat + self.d_flat // self.cross_hero_fraction + self.d_hero

    @property
    def n_outputs(self) -> int:
        return self.n_action_types + sum(self.action_params) + self.n_units + 1


class OpenAIFive(nn.Module):
    """Inputs: units [B, 5, T, U, F], unit types [B, 5, T, U], globals [B, 5, T, G], hero ids [B, 5].
    Output [B, 5, T, n_outputs]: action-type logits, offset/delay logits, target-unit logits, value."""

    def __init__(self, cfg: OpenAIFiveConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.unit_type = nn.Embedding(cfg.n_unit_types, cfg.d_unit_type)
        self.unit_fc1 = nn.Linear(cfg.unit_features + cfg.d_unit_type, cfg.d_unit)
        self.unit_fc2 = nn.Linear(cfg.d_unit, cfg.d_unit)
        self.global_fc = nn.Linear(cfg.n_global, cfg.d_global)
        self.hero = nn.Embedding(cfg.n_hero_types, cfg.d_hero)
        self.lstm = nn.LSTM(cfg.d_lstm_in, cfg.d_lstm, batch_first=True)
        self.action_type = nn.Linear(cfg.d_lstm, cfg.n_action_types)
        self.action_params = nn.Linear(cfg.d_lstm, sum(cfg.action_params))  # X, Y, delay heads side by side
        self.query = nn.Linear(cfg.d_lstm, cfg.d_key)
        self.unit_key = nn.Linear(cfg.d_unit, cfg.d_key)
        self.value = nn.Linear(cfg.d_lstm, 1)

    def forward(
        self, units: torch.Tensor, unit_types: torch.Tensor, globals_: torch.Tensor, heroes: torch.Tensor
    ) -> torch.Tensor:
        cfg = self.cfg
        B, H, T, U, _ = units.shape
        e = torch.cat([units, self.unit_type(unit_types)], dim=-1)
        e = F.relu(self.unit_fc2(F.relu(self.unit_fc1(e))))  # [B, H, T, U, d_unit]
        pools = [g.amax(dim=3) for g in e.split(cfg.unit_groups, dim=3)]  # one max-pool per group
        n_hero_slots = cfg.unit_groups[0] + cfg.unit_groups[1]
        hero_slots = e[:, :, :, :n_hero_slots].flatten(3)
        flat = torch.cat([*pools, hero_slots, F.relu(self.global_fc(globals_))], dim=-1)  # [B, H, T, d_flat]
        shared = flat[..., : flat.shape[-1] // cfg.cross_hero_fraction].amax(dim=1, keepdim=True)
        hero = self.hero(heroes)[:, :, None, :].expand(B, H, T, cfg.d_hero)
        x = torch.cat([flat, shared.expand(B, H, T, shared.shape[-1]), hero], dim=-1)
        h, _ = self.lstm(x.reshape(B * H, T, -1))  # [B H, T, 4096]
        keys = self.unit_key(e.reshape(B * H * T, U, cfg.d_unit))  # [B H T, U, d_key]
        q = self.query(h).reshape(B * H * T, cfg.d_key, 1)
        target = torch.bmm(keys, q).reshape(B * H, T, U)  # target-unit logits: key . query
        out = torch.cat([self.action_type(h), self.action_params(h), target, self.value(h)], dim=-1)
        return out.reshape(B, H, T, cfg.n_outputs)


def openai_five_inputs(
    cfg: OpenAIFiveConfig, batch: int, seq: int | None, device: str | torch.device
) -> tuple:
    seq = seq or cfg.seq_len
    lead = (batch, cfg.n_heroes, seq)
    return (
        torch.randn(*lead, cfg.n_units, cfg.unit_features, device=device),
        torch.randint(0, cfg.n_unit_types, (*lead, cfg.n_units), device=device),
        torch.randn(*lead, cfg.n_global, device=device),
        torch.randint(0, cfg.n_hero_types, (batch, cfg.n_heroes), device=device),
    )


OPENAI_FIVE = OpenAIFiveConfig()
OPENAI_FIVE_TINY = OpenAIFiveConfig(
    n_heroes=2, unit_groups=(1, 1, 2, 2, 1), unit_features=5, n_unit_types=10, d_unit_type=4, d_unit=8,
    n_global=3, d_global=8, n_hero_types=6, d_hero=4, d_lstm=16, n_action_types=5, action_params=(3, 3, 2),
    d_key=4, seq_len=3,
)  # fmt: skip


# ======================================================================== CURL


@dataclass(frozen=True)
class CURLConfig:
    frame_stack: int = 3  # 3 stacked RGB frames: 9 input channels
    image_size: int = 84  # 100 x 100 renders, randomly cropped to 84 x 84
    n_filters: int = 32  # every convolution: 32 filters of 3 x 3
    n_convs: int = 4  # the first with stride 2, the rest stride 1; no padding
    d_latent: int = 50  # encoder output: linear -> LayerNorm -> tanh (SAC+AE's encoder)
    d_hidden: int = 1024  # actor and critic MLPs: two hidden layers of 1024
    action_dim: int = 6  # cheetah run, the task with batch 512 (other tasks: 1 to 6)

    @property
    def conv_out(self) -> int:
        size = (self.image_size - 3) // 2 + 1
        return size - 2 * (self.n_convs - 1)


class PixelEncoder(nn.Module):
    def __init__(self, cfg: CURLConfig, convs: nn.Sequential | None = None) -> None:
        super().__init__()
        if convs is None:
            layers: list[nn.Module] = []
            c = 3 * cfg.frame_stack
            for i in range(cfg.n_convs):
                layers += [nn.Conv2d(c, cfg.n_filters, 3, stride=2 if i == 0 else 1), nn.ReLU()]
                c = cfg.n_filters
            convs = nn.Sequential(*layers)
        self.convs = convs
        self.fc = nn.Linear(cfg.n_filters * cfg.conv_out**2, cfg.d_latent)
        self.ln = nn.LayerNorm(cfg.d_latent)

    def forward(self, obs: torch.Tensor, detach_convs: bool = False) -> torch.Tensor:
        h = self.convs(obs / 255.0).flatten(1)
        if detach_convs:
            h = h.detach()
        return torch.tanh(self.ln(self.fc(h)))


def mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    layers = [nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_hidden), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(d_hidden, d_out))


class CURL(nn.Module):
    """The trained networks of a CURL (SAC) agent, one pass of each network the update runs once:

    critic encoder on the anchor observations -> Q1, Q2 of (z, action); actor on the anchors (its
    encoder shares the critic's convolutions, detached as in the reference code, with its own
    linear + LayerNorm) -> mean and log std; key encoder on the positives (no gradient) and the
    bilinear logits z_a W z_p^T over the batch. The key encoder is the critic's momentum copy; it
    is run here through the online encoder without gradient, which costs the same FLOP and keeps
    the untrained momentum copies out of the parameters. Not here: the target critic's pass on
    the next observations and the actor loss's second critic pass.

    Inputs: anchor crops [B, 9, 84, 84], positive crops [B, 9, 84, 84], actions [B, A].
    Output [B, 2 + 2A + B]: Q1, Q2, mean, log std, contrastive logits.
    """

    def __init__(self, cfg: CURLConfig) -> None:
        super().__init__()
        self.encoder = PixelEncoder(cfg)
        self.q1 = mlp(cfg.d_latent + cfg.action_dim, cfg.d_hidden, 1)
        self.q2 = mlp(cfg.d_latent + cfg.action_dim, cfg.d_hidden, 1)
        self.actor_encoder = PixelEncoder(cfg, convs=self.encoder.convs)  # tied convolutions
        self.actor = mlp(cfg.d_latent, cfg.d_hidden, 2 * cfg.action_dim)
        self.W = nn.Parameter(torch.rand(cfg.d_latent, cfg.d_latent))

    def forward(self, anchor: torch.Tensor, positive: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        z = self.encoder(anchor)
        za = torch.cat([z, action], dim=1)
        q1, q2 = self.q1(za), self.q2(za)
        mu, log_std = self.actor(self.actor_encoder(anchor, detach_convs=True)).chunk(2, dim=1)
        with torch.no_grad():
            z_pos = self.encoder(positive)
        logits = z @ (self.W @ z_pos.T)  # [B, B]
        logits = logits - logits.amax(dim=1, keepdim=True)
        return torch.cat([q1, q2, torch.tanh(mu), log_std, logits], dim=1)


def curl_inputs(cfg: CURLConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    shape = (batch, 3 * cfg.frame_stack, cfg.image_size, cfg.image_size)
    return (
        torch.rand(shape, device=device) * 255,
        torch.rand(shape, device=device) * 255,
        torch.rand(batch, cfg.action_dim, device=device) * 2 - 1,
    )


CURL_DMC = CURLConfig()
CURL_TINY = CURLConfig(
    frame_stack=1, image_size=12, n_filters=4, n_convs=2, d_latent=6, d_hidden=16, action_dim=2
)


# ======================================================================== XLand agent (GOAT)


@dataclass(frozen=True)
class GOATConfig:
    """The XLand agent: pixels and proprioception through a torso, the goal through a goal
    encoder, an LSTM core, the GOal ATtention module, per-option values, a policy head.

    From the paper: 72 x 96 RGB first-person frames; goals in disjunctive normal form (options of
    predicates); an LSTM core; the GOAT module (goal-conditioned attention over the core state,
    one output per option, combined by the options' values); a value per option; a predicate
    predictor as auxiliary head. Widths and the exact wiring are not in the text: the pixel
    torso here is IMPALA's ResNet (Espeholt et al. 2018), the rest of the widths are chosen, with
    `d_core` set so that the total lands on Epoch's 3.47M.
    """

    image_hw: tuple[int, int] = (72, 96)  # RGB first-person frames
    channels: tuple[int, ...] = (16, 32, 32)  # IMPALA ResNet stages: conv, max-pool /2, 2 res blocks
    d_vision: int = 256  # linear + ReLU over the flattened 9 x 12 x 32 features
    n_proprio: int = 16  # proprioception (held object, speed, last action, reward): chosen
    d_proprio: int = 64
    n_options: int = 3  # options of the goal's disjunction: chosen
    n_predicates: int = 3  # predicates per option (a conjunction): chosen
    d_predicate_in: int = 32  # a predicate's encoding (relation, negation, 2 objects): chosen
    d_goal: int = 128  # predicate embedding, summed over an option's predicates
    d_core: int = 504  # LSTM units: the free width that brings the total to 3.47M
    n_slots: int = 8  # the core state read as n_slots vectors that the option queries attend to
    n_heads: int = 4  # attention heads of the GOAT module
    d_policy: int = 256  # policy MLP hidden width
    n_actions: int = 26  # discrete actions (move, strafe, look, grab, use combinations): chosen
    n_predicate_outputs: int = 64  # auxiliary predicate-predictor targets: chosen
    seq_len: int = 80  # unroll length of the learner (V-MPO style); chosen

    @property
    def d_head(self) -> int:
        return self.d_core // self.n_heads

    @property
    def d_slot(self) -> int:
        return self.d_core // self.n_slots

    @property
    def vision_hw(self) -> tuple[int, int]:
        h, w = self.image_hw
        for _ in self.channels:  # 3 x 3 max-pool, stride 2, padding 1: ceil(x / 2)
            h, w = (h + 1) // 2, (w + 1) // 2
        return h, w

    @property
    def n_outputs(self) -> int:
        return self.n_actions + self.n_options + 1 + self.n_predicate_outputs


class ImpalaStage(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.res = nn.ModuleList(
            nn.ModuleList([nn.Conv2d(c_out, c_out, 3, padding=1), nn.Conv2d(c_out, c_out, 3, padding=1)])
            for _ in range(2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(self.conv(x), 3, stride=2, padding=1)
        for conv1, conv2 in self.res:
            x = x + conv2(F.relu(conv1(F.relu(x))))
        return x


class GOAT(nn.Module):
    """Inputs: frames [B, T, 3, 72, 96], proprioception [B, T, P], goal [B, T, options, predicates, E].
    Output [B, T, n_outputs]: action logits, option values, value, predicate predictions."""

    def __init__(self, cfg: GOATConfig) -> None:
        super().__init__()
        self.cfg = cfg
        stages, c = [], 3
        for width in cfg.channels:
            stages.append(ImpalaStage(c, width))
            c = width
        self.resnet = nn.Sequential(*stages)
        h, w = cfg.vision_hw
        self.vision_fc = nn.Linear(c * h * w, cfg.d_vision)
        self.proprio_fc = nn.Linear(cfg.n_proprio, cfg.d_proprio)
        self.predicate_fc = nn.Linear(cfg.d_predicate_in, cfg.d_goal)
        self.core = nn.LSTM(cfg.d_vision + cfg.d_proprio + cfg.d_goal, cfg.d_core, batch_first=True)
        # GOAT: queries from each option's embedding, keys and values from the core state's slots
        self.q = nn.Linear(cfg.d_goal, cfg.d_core)
        self.kv = nn.Linear(cfg.d_slot, 2 * cfg.d_core)
        self.o = nn.Linear(cfg.d_core, cfg.d_core)
        self.option_value = nn.Linear(cfg.d_core, 1)
        self.policy = nn.Sequential(
            nn.Linear(cfg.d_core, cfg.d_policy), nn.ReLU(), nn.Linear(cfg.d_policy, cfg.n_actions)
        )
        self.value = nn.Linear(cfg.d_core, 1)
        self.predicates = nn.Linear(cfg.d_core, cfg.n_predicate_outputs)

    def forward(self, frames: torch.Tensor, proprio: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        B, T = frames.shape[:2]
        N, O, S, Hh, D = B * T, cfg.n_options, cfg.n_slots, cfg.n_heads, cfg.d_head
        v = F.relu(self.resnet(frames.flatten(0, 1))).flatten(1)
        v = F.relu(self.vision_fc(v)).reshape(B, T, -1)
        p = F.relu(self.proprio_fc(proprio))
        options = F.relu(self.predicate_fc(goal)).sum(dim=3)  # [B, T, O, d_goal]: conjunction
        g = options.amax(dim=2)  # the goal: a max over its options (disjunction)
        h, _ = self.core(torch.cat([v, p, g], dim=-1))  # [B, T, d_core]
        q = self.q(options).reshape(N, O, Hh, D).transpose(1, 2)
        k, val = self.kv(h.reshape(N, S, cfg.d_slot)).chunk(2, dim=-1)
        k = k.reshape(N, S, Hh, D).transpose(1, 2)
        val = val.reshape(N, S, Hh, D).transpose(1, 2)
        per_option = F.scaled_dot_product_attention(q, k, val).transpose(1, 2).reshape(N, O, cfg.d_core)
        per_option = self.o(per_option)  # [N, O, d_core]: one goal-attended state per option
        option_values = self.option_value(per_option).squeeze(-1)  # [N, O]
        weights = torch.softmax(option_values, dim=-1)
        mixed = (weights.unsqueeze(-1) * per_option).sum(dim=1)  # [N, d_core]
        hh = h.reshape(N, cfg.d_core)
        out = torch.cat([self.policy(mixed), option_values, self.value(hh), self.predicates(hh)], dim=-1)
        return out.reshape(B, T, cfg.n_outputs)


def goat_inputs(cfg: GOATConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    seq = seq or cfg.seq_len
    h, w = cfg.image_hw
    return (
        torch.rand(batch, seq, 3, h, w, device=device),
        torch.randn(batch, seq, cfg.n_proprio, device=device),
        torch.rand(batch, seq, cfg.n_options, cfg.n_predicates, cfg.d_predicate_in, device=device),
    )


GOAT_XLAND = GOATConfig()
GOAT_TINY = GOATConfig(
    image_hw=(8, 12), channels=(4, 4), d_vision=8, n_proprio=3, d_proprio=4, n_options=2, n_predicates=2,
    d_predicate_in=5, d_goal=6, d_core=16, n_slots=4, n_heads=2, d_policy=8, n_actions=5,
    n_predicate_outputs=3, seq_len=3,
)  # fmt: skip


# ======================================================================== entries

ENTRIES = [
    Entry(
        name="dqn",
        family="dqn",
        domain="games",
        config=DQN_NATURE,
        build_fn=DQN,
        inputs_fn=dqn_inputs,
        default_batch=32,
        default_seq=None,
        facts=Facts(
            dataset_name="DQN (Nature)",
            year=2015,
            published_parameters=1_693_362,
            parameters_source="Mnih et al. 2015 Methods, 'Model architecture' (layers, no count)",
            parameters_note=(
                "the paper states no count; published_parameters is the count its layers give with 18 "
                "actions: convs 8,224 + 32,832 + 36,928, fc 3136 x 512 + 512, output 512 x 18 + 18"
            ),
        ),
        tiny=DQN_TINY,
    ),
    Entry(
        name="dqn-2013",
        family="dqn",
        domain="games",
        config=DQN_NIPS,
        build_fn=DQN,
        inputs_fn=dqn_inputs,
        default_batch=32,
        default_seq=None,
        facts=Facts(
            dataset_name="DQN",
            year=2013,
            published_parameters=836_096,
            parameters_source="Epoch dataset estimate; Mnih et al. 2013 Sec. 4.1 gives layers, no count",
            parameters_note=(
                "-18.6%: 680,770 instantiated (convs 4,112 + 8,224, fc 2592 x 256 + 256, output 256 x 18 "
                "+ 18). The dataset's 836,096 = 4*16*8*8 + 16*32*4*4 + 32*10*10*256 + 256*18 takes the "
                "second convolution's output as 10 x 10 (unpadded 4x4/2 on 20 x 20 gives 9 x 9) and "
                "leaves out biases"
            ),
        ),
        tiny=DQN_TINY,
    ),
    Entry(
        name="alphago-zero",
        family="alphazero",
        domain="games",
        config=AGZ_40,
        build_fn=AlphaZeroNet,
        inputs_fn=alphazero_inputs,
        default_batch=1,
        default_seq=None,
        facts=Facts(
            dataset_name="AlphaGo Zero",
            year=2017,
            published_parameters=46_400_244,
            parameters_source="Epoch dataset estimate; Silver et al. 2017 Methods gives layers, no count",
            parameters_note=(
                "+0.09%: 46.44M instantiated for the 40-block network (1 convolutional block + 39 residual "
                "blocks of 256 filters); the dataset's estimate omits batch-norm scales and shifts and "
                "the linear layers' biases"
            ),
        ),
        tiny=AZ_TINY,
    ),
    Entry(
        name="alphazero",
        family="alphazero",
        domain="games",
        config=AZ_CHESS,
        build_fn=AlphaZeroNet,
        inputs_fn=alphazero_inputs,
        default_batch=1,
        default_seq=None,
        facts=Facts(
            dataset_name="AlphaZero",
            year=2018,
            published_parameters=23_483_212,
            parameters_source="derived from Silver et al. 2018 Supplementary, 'Architecture' (no count)",
            parameters_note=(
                "the paper states no count; published_parameters is this chess network's: 119-plane input, "
                "1 conv block + 19 residual blocks of 256, policy head 3x3 conv of 256 + 3x3 conv of 73 "
                "planes (kernel sizes unstated: Leela Chess Zero's reading), value head as AlphaGo Zero's"
            ),
        ),
        tiny=AZ_TINY_CONV,
    ),
    Entry(
        name="openai-five",
        family="openai-five",
        domain="games",
        config=OPENAI_FIVE,
        build_fn=OpenAIFive,
        inputs_fn=openai_five_inputs,
        default_batch=1,
        default_seq=OPENAI_FIVE.seq_len,
        facts=Facts(
            dataset_name="OpenAI Five Rerun",
            year=2019,
            published_parameters=159e6,
            parameters_source="Berner et al. 2019, p. 3 ('approximately 159 million parameters')",
            parameters_note=(
                "-0.0005%: 158,999,249 instantiated. The 4096-unit LSTM (16384 x (input + 4096) "
                "weights) is 95% of the count; the observation encoders and heads are approximated "
                "(widths not in the text), their free width chosen to land on 159M"
            ),
        ),
        tiny=OPENAI_FIVE_TINY,
    ),
    Entry(
        name="curl",
        family="curl",
        domain="games",
        config=CURL_DMC,
        build_fn=CURL,
        inputs_fn=curl_inputs,
        default_batch=1,
        default_seq=None,
        facts=Facts(
            dataset_name="CURL",
            year=2020,
            published_parameters=7_285_278,
            parameters_source="derived from Srinivas et al. 2020 App. B (architecture); no count stated",
            parameters_note=(
                "the paper states no count; this is the trained networks' count for cheetah run "
                "(6-dim actions): critic encoder 1.99M (convs 30k, linear 39200 x 50 + LayerNorm 1.96M), "
                "Q1 + Q2 2.22M, actor's own linear + LayerNorm 1.96M, actor MLP 1.11M, W 2.5k. The momentum "
                "copies (critic target incl. the key encoder, 4.21M) are not counted"
            ),
        ),
        tiny=CURL_TINY,
    ),
    Entry(
        name="goat",
        family="goat",
        domain="games",
        config=GOAT_XLAND,
        build_fn=GOAT,
        inputs_fn=goat_inputs,
        default_batch=1,
        default_seq=GOAT_XLAND.seq_len,
        facts=Facts(
            dataset_name="GOAT",
            year=2021,
            published_parameters=3_472_816,
            parameters_source="Epoch dataset estimate (from the paper's architecture description)",
            parameters_note=(
                "-0.24%: 3,464,508 instantiated, approximated: the paper names the components (ResNet "
                "torso on 72 x 96 pixels, goal encoder, LSTM core, GOAT attention, per-option values, "
                "predicate predictor) but not their widths; IMPALA's ResNet is assumed for the torso "
                "and the LSTM width is set to land on Epoch's estimate"
            ),
        ),
        tiny=GOAT_TINY,
    ),
]
