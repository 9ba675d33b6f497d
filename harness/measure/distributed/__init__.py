"""Data-parallel measurement on several processes: torch.distributed, launched by torchrun.

Its modules: :mod:`.rank` (what each process runs), :mod:`.wrap` (DDP and FSDP wrapping),
:mod:`.entry` (the torchrun entry, which stores rank 0's row), :mod:`.launch` (torchrun as a
watched subprocess), :mod:`.metrics` (the pure figures) and :mod:`.overhead` (DDP's cost in one
process). This package re-exports their public names.

* **The per-rank entry**, ``python -m harness.measure.distributed --model M --batch B ...``: what
  ``torchrun --nproc-per-node N -m harness.measure.distributed ...`` runs on every rank (on one
  machine, or on several under a cluster scheduler). Backend gloo on CPU, nccl on CUDA. Strategy
  ``ddp`` wraps the model in DistributedDataParallel; ``fsdp`` applies FSDP2 ``fully_shard`` to every
  repeated block (each member of an ``nn.ModuleList``) and then to the root (FSDP1, GPU only, where
  FSDP2 is missing). Each rank times the training step of the single-device runner (forward,
  loss = output.sum(), backward, AdamW step), then the same step with gradient synchronisation
  off, then an all-reduce of a gradient-sized buffer; rank 0 gathers every rank's figures and,
  after a barrier that every rank must pass, builds ONE row and writes the JSON (``--out``); the
  entry stores the row (``--db``).
* **The launcher**, :func:`launch`: runs ``python -m torch.distributed.run --standalone
  --nproc-per-node N -m harness.measure.distributed ...`` as a subprocess in its own session, with a
  timeout; on timeout it kills the whole process group. A rank that dies or hangs ends the job with
  one clear line (:class:`DistError`); no row exists then. It returns rank 0's result, and the
  caller (``harness bench --nproc``) stores its row.
  :func:`scaling` measures the same per-rank batch at 1..N processes.

FLOP accounting (1 multiply-accumulate = 2 FLOP). Each rank's count comes from
``harness.counting.count_flops`` on the meta device, on the UNWRAPPED model, at the per-rank batch
(phase "train", optimizer "adamw"): no count ever runs under DDP or FSDP (FlopCounterMode is known to
report 0 under FSDP). The optimizer step updates ONE copy of the parameters per group: FSDP's ranks
each update their own dim-0 shard (exactly what each executes), DDP's ranks all update the full
replica. So a rank's *model* FLOP = its forward + backward + its shard's share of one optimizer
update (the same dim-0 partition for both strategies), and the group's model FLOP = the sum over
ranks = the count of one process at batch x world_size, exactly, for a model whose count is linear in
batch (work a step does whatever its batch, such as BatchNorm's num_batches_tracked += 1, is done and
counted once per rank). A rank's *hardware* (executed) FLOP count DDP's replicated update in full on
every rank.

Figures (all in the JSON; the row has the columns the store has, the rest in ``extra``):

* ``seconds_median`` = the slowest rank's median step (the group steps at the pace of its slowest
  member); ``rank_seconds_median`` lists every rank's median.
* ``utilisation`` = group model FLOP / (world_size x seconds_median x datasheet peak of one device);
  ``utilisation_ceiling`` likewise against the matmul ceiling measured on rank 0's device. The row
  stores the peak and the ceiling of one device.
* ``comm_share`` = 1 - t_nosync / t_sync: the share of the step that gradient synchronisation costs
  (slowest rank's medians, with and without sync: ``DDP.no_sync()``, FSDP2
  ``set_requires_gradient_sync(False)``). Clamped at 0: when communication is negligible, noise can
  make the no-sync step the slower one (``comm_share_raw`` keeps the unclamped value). DDP's buffer
  broadcasts and FSDP's parameter all-gathers run in both timings, so for FSDP it is the
  reduce-scatter share only (a lower bound of all its communication). Without gradient sync FSDP
  leaves the sharded gradients empty and AdamW skips them, so the no-sync step's optimizer phase is
  replaced by the synced one's.
* ``allreduce_algbw`` = bytes / t, ``allreduce_busbw`` = bytes x 2 (n-1)/n / t (the NCCL-tests
  convention: the bytes each rank's link carries in a ring all-reduce) for ``dist.all_reduce`` of a
  float32 buffer the size of the gradients (bytes = 4 x parameters); busbw is None at world_size 1.

Test hooks (hidden): ``HARNESS_DIST_FAIL_RANK=r`` makes rank r exit(3) at its first timed step,
``HARNESS_DIST_HANG_RANK=r`` makes it sleep forever there.
"""

from harness.measure.distributed.entry import main
from harness.measure.distributed.launch import (
    KILL_GRACE_S,
    DistError,
    DistResult,
    DistTimeout,
    import_paths,
    launch,
    scaling,
    torchrun_command,
)
from harness.measure.distributed.metrics import (
    bus_bandwidth,
    comm_share,
    group_figures,
    group_flop,
    group_result,
    rank_flop,
    shard_numel,
    shard_rows,
    summary,
)
from harness.measure.distributed.overhead import single_process_nccl_overhead
from harness.measure.distributed.rank import (
    DEFAULT_TIMEOUT_S,
    FAIL_ENV,
    FAIL_EXIT_CODE,
    HANG_ENV,
    STRATEGIES,
    backend_for,
    rank_device,
)
from harness.measure.distributed.wrap import _wrap, repeated_blocks

__all__ = [
    "DEFAULT_TIMEOUT_S", "FAIL_ENV", "FAIL_EXIT_CODE", "HANG_ENV", "KILL_GRACE_S", "STRATEGIES",
    "DistError", "DistResult", "DistTimeout", "_wrap", "backend_for", "bus_bandwidth", "comm_share",
    "group_figures", "group_flop", "group_result", "import_paths", "launch", "main", "rank_device",
    "rank_flop", "repeated_blocks", "scaling", "shard_numel", "shard_rows", "single_process_nccl_overhead",
    "summary", "torchrun_command",
]
