"""Data-parallel measurement: real torchrun jobs with the gloo backend on this CPU, 2 processes.

The jobs (about 10-20 s each here, mostly torch imports in three processes) check the JSON rank 0
writes, the row it stores, and that a rank that dies or hangs ends the job with one clear line,
within the timeout, and with no row written.
"""

import io
import os
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

import models
from harness.measure import distributed as D
from harness.measure.runner import BenchConfig, count_step
from harness.report.bench_view import render
from harness.store import Store

HANG_TIMEOUT_S = 40  # long enough for three processes to import torch on a loaded 2-core machine
MODEL, BATCH = "lenet-5", 4  # its count is linear in the batch: the sums are exact


def cfg(**kw):
    return BenchConfig(MODEL, BATCH, steps=3, warmup=1, **kw)


# --------------------------------------------------------------------------- no processes


@pytest.mark.parametrize("dim0", [1, 5, 6, 10, 16, 127])
@pytest.mark.parametrize("world", [1, 2, 3, 4, 8])
def test_shard_rows_follow_torch_chunk(dim0, world):
    chunks = [c.shape[0] for c in torch.arange(dim0).chunk(world)]
    chunks += [0] * (world - len(chunks))
    assert [D.shard_rows(dim0, world, r) for r in range(world)] == chunks


@pytest.mark.parametrize("name", ["small-cnn", "lenet-5"])
@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("strategy", D.STRATEGIES)
def test_rank_flop_sums_to_one_process_at_the_global_batch(name, world, strategy):
    """Per-rank model FLOP (counted on meta, unwrapped, per-rank batch) add up to the count of one
    process at batch x world_size, exactly: these models' counts are linear in the batch."""
    entry = models.get(name)
    per_rank = [D.rank_flop(entry, BenchConfig(name, 4), world, r, strategy) for r in range(world)]
    group = D.group_flop(per_rank)
    one = count_step(entry, BenchConfig(name, 4 * world))
    # a count affine in the batch, a*b + c, sums over ranks to the global count + (world - 1) c;
    # c = 0 for lenet-5; small-cnn's c = 3 (its BatchNorms bump num_batches_tracked once a step)
    c = 2 * count_step(entry, BenchConfig(name, 4)).forward - count_step(entry, BenchConfig(name, 8)).forward
    assert c == (0 if name == "lenet-5" else 3)
    assert (group["forward"], group["backward"], group["optimizer"]) == (
        one.forward + (world - 1) * c, one.backward, one.optimizer)
    assert group["model"] == one.model + (world - 1) * c
    single_rank = count_step(entry, BenchConfig(name, 4))
    assert all(r["forward"] + r["backward"] == single_rank.forward + single_rank.backward for r in per_rank)
    numel = sum(p.numel() for p in entry.build("meta").parameters())
    if strategy == "ddp":  # every rank runs the full AdamW update: executed, not model, FLOP
        assert group["hardware"] == group["model"] + (world - 1) * one.optimizer
        assert all(r["updated_numel"] == numel for r in per_rank)
    else:  # each rank updates its own shard: the shards make one update
        assert group["hardware"] == group["model"]
        assert group["updated_numel"] == numel


def test_bandwidth_and_comm_share_conventions():
    alg, bus = D.bus_bandwidth(8_000, 0.001, 4)
    assert alg == pytest.approx(8e6) and bus == pytest.approx(8e6 * 2 * 3 / 4)  # NCCL-tests busbw
    assert D.bus_bandwidth(8_000, 0.001, 1)[1] is None  # one rank moves nothing over a bus
    assert D.comm_share(1.0, 0.75) == (0.25, 0.25)
    assert D.comm_share(1.0, 1.1) == (0.0, pytest.approx(-0.1))  # noise: clamped, raw kept


def test_entry_needs_torchrun(monkeypatch, capsys):
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert D.main(["--model", MODEL, "--batch", "2"]) == 2
    assert "torchrun" in capsys.readouterr().err


def test_launch_refuses_what_it_cannot_run():
    with pytest.raises(ValueError, match="unknown strategy"):
        D.launch(cfg(), 2, "zero3")
    with pytest.raises(ValueError, match="at least 1"):
        D.launch(cfg(), 0, "ddp")
    with pytest.raises(ValueError, match="training steps"):
        D.launch(cfg(checkpointing=True), 2, "ddp")


# --------------------------------------------------------------------------- one process, a group of one


@pytest.fixture
def group_of_one():
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_fsdp_shards_every_block_and_the_root(group_of_one):
    from torch.distributed.fsdp import FSDPModule

    entry = models.get("gpt2-small")
    model = entry.build("cpu", config=entry.tiny)
    blocks = D.repeated_blocks(model)
    assert blocks
    wrapped, no_sync = D._wrap(model, "fsdp", torch.device("cpu"))
    assert isinstance(wrapped, FSDPModule) and all(isinstance(b, FSDPModule) for b in blocks)
    with no_sync():
        pass


def test_fsdp1_fallback_says_it_needs_a_gpu(group_of_one, monkeypatch):
    import torch.distributed.fsdp as fsdp

    monkeypatch.delattr(fsdp, "fully_shard")  # a torch without FSDP2
    with pytest.raises(RuntimeError, match="FSDP1 needs a GPU"):
        D._wrap(models.get(MODEL).build("cpu"), "fsdp", torch.device("cpu"))


def test_single_process_overhead_on_cpu():
    r = D.single_process_nccl_overhead(BenchConfig(MODEL, BATCH, steps=3, warmup=1), rounds=1)
    assert r["backend"] == "gloo" and r["world_size"] == 1
    assert r["plain_seconds"] > 0 and r["ddp_seconds"] > 0
    assert r["ratio"] == pytest.approx(r["ddp_seconds"] / r["plain_seconds"])
    assert not dist.is_initialized()  # the group it made is gone


# --------------------------------------------------------------------------- real torchrun jobs


def _check(r, world, strategy):
    assert r.world_size == world and r.strategy == strategy and r.backend == "gloo"
    assert r.status == "ok" and r.error is None
    assert len(r.rank_seconds_median) == world and len(r.rank_seconds_nosync_median) == world
    assert r.seconds_median == max(r.rank_seconds_median) > 0
    assert 0 <= r.comm_share <= 1
    assert r.group_flop["model"] == sum(f["model"] for f in r.rank_flop) == r.flop_per_step
    fb = [f["forward"] + f["backward"] for f in r.rank_flop]
    assert r.group_flop["forward"] + r.group_flop["backward"] == world * fb[0]
    one = count_step(models.get(MODEL), BenchConfig(MODEL, BATCH * world))
    assert r.flop_per_step == one.model  # the group's model FLOP: one process at the global batch
    assert r.allreduce_bytes == 4 * sum(p.numel() for p in models.get(MODEL).build("meta").parameters())
    assert r.allreduce_algbw > 0
    assert (r.allreduce_busbw is None) if world == 1 else r.allreduce_busbw == pytest.approx(
        r.allreduce_algbw * 2 * (world - 1) / world)
    assert r.peak_flop_per_s is None and r.utilisation is None  # a CPU has no datasheet peak
    if r.ceiling_flop_per_s:
        assert r.utilisation_ceiling == pytest.approx(
            r.flop_per_step / (world * r.seconds_median * r.ceiling_flop_per_s))
    # the sharded optimizer really updates the elements it is counted for
    assert r.rank_local_param_numel == [f["updated_numel"] for f in r.rank_flop]


def test_ddp_scaling_on_two_processes(tmp_path):
    db = tmp_path / "runs.sqlite"
    results = D.scaling(MODEL, BATCH, [1, 2], "ddp", steps=3, warmup=1, timeout_s=120)
    assert [r.world_size for r in results] == [1, 2]
    for r in results:
        _check(r, r.world_size, "ddp")
    one, two = results
    assert one.scaling_efficiency == 1.0
    assert two.scaling_efficiency == pytest.approx(one.seconds_median / two.seconds_median)
    assert two.examples_per_s_per_chip == pytest.approx(BATCH / two.seconds_median)
    assert not db.exists()  # the launcher measures; storing is the caller's
    with Store(db) as store:
        ids = [store.add(r.row) for r in results]
        rows = store.rows()
    assert [(r["world_size"], r["strategy"], r["status"]) for r in rows] == [(1, "ddp", "ok"),
                                                                           (2, "ddp", "ok")]
    row = rows[1]
    assert row["run_id"] == ids[1] and row["batch"] == BATCH
    assert row["run_key"] == two.row["run_key"] and row["utc"] == two.row["utc"]  # the row shown is the row stored
    assert row["peak_flop_per_s"] is None and row["ceiling_flop_per_s"] == two.ceiling_flop_per_s  # one device's
    assert row["flop_per_step"] == two.flop_per_step and row["seconds_median"] == two.seconds_median
    assert row["utilisation_ceiling"] == pytest.approx(two.utilisation_ceiling)
    out = io.StringIO()
    render([r.row for r in results], "table", out)  # renders like the rows of `harness bench`
    assert "lenet-5" in out.getvalue()
    extra = row["extra"]
    assert len(extra["rank_seconds_median"]) == 2 and extra["backend"] == "gloo"
    assert extra["scaling_efficiency"] == pytest.approx(two.scaling_efficiency)
    for k in ("comm_share", "allreduce_algbw", "allreduce_busbw"):
        assert extra[k] == pytest.approx(getattr(two, k))


def test_fsdp_on_two_processes(tmp_path):
    db = tmp_path / "runs.sqlite"
    r = D.launch(cfg(), 2, "fsdp", 120, ceiling=False)
    _check(r, 2, "fsdp")
    assert r.ceiling_flop_per_s is None
    assert "2 x fsdp (gloo): step" in r.log  # rank 0's one-line summary
    numel = sum(p.numel() for p in models.get(MODEL).build("meta").parameters())
    assert sum(r.rank_local_param_numel) == numel  # the shards make the whole model
    with Store(db) as store:
        store.add(r.row)
        assert [(x["world_size"], x["strategy"]) for x in store.rows()] == [(2, "fsdp")]


def _leftovers(marker: str) -> list[int]:
    """Processes whose environment carries `marker` (the test's own database path)."""
    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if f"HARNESS_TEST_MARK={marker}".encode() in (p / "environ").read_bytes():
                    found.append(int(p.name))
            except OSError:
                pass
    return found


def _failing(db):
    start = time.monotonic()
    with pytest.raises(D.DistError) as info:
        D.launch(cfg(), 2, "ddp", 120, ceiling=False, env={D.FAIL_ENV: "1", "HARNESS_TEST_MARK": str(db)})
    return info.value, time.monotonic() - start


def _hanging(db):
    start = time.monotonic()
    with pytest.raises(D.DistTimeout) as info:
        D.launch(cfg(), 2, "ddp", HANG_TIMEOUT_S, ceiling=False, env={D.HANG_ENV: "1", "HARNESS_TEST_MARK": str(db)})
    return info.value, time.monotonic() - start


def test_a_failing_rank_and_a_hanging_rank_end_their_jobs_with_one_line(tmp_path):
    """Both jobs at once (the hanging one idles while it waits for its timeout)."""
    from concurrent.futures import ThreadPoolExecutor

    fail_db, hang_db = tmp_path / "fail.sqlite", tmp_path / "hang.sqlite"
    with ThreadPoolExecutor(2) as pool:
        hanging = pool.submit(_hanging, hang_db)
        failing = pool.submit(_failing, fail_db)
        (failed, fail_s), (hung, hang_s) = failing.result(), hanging.result()

    # a rank that dies: the job ends at once, naming the rank, its exit code and where it was
    message = str(failed)
    assert fail_s < 60
    assert "\n" not in message and not isinstance(failed, D.DistTimeout)
    assert "rank 1 exited with code 3" in message and "timed steps" in message
    assert "exitcode" in failed.log  # torchrun's own report rides along for a closer look

    # a rank that hangs: the launcher kills the process group at the timeout
    message = str(hung)
    assert HANG_TIMEOUT_S <= hang_s < HANG_TIMEOUT_S + D.KILL_GRACE_S + 10
    assert "\n" not in message and f"timed out after {HANG_TIMEOUT_S} s" in message and "rank 1" in message

    for db in (fail_db, hang_db):
        assert not db.exists() or Store(db).count() == 0  # no row, not even half of one
        assert _leftovers(str(db)) == []  # nothing of either job is left running
    # the hooks went to the ranks only
    assert os.environ.get(D.FAIL_ENV) is None and os.environ.get(D.HANG_ENV) is None
