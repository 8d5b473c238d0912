"""Who works where in a cluster batch: joining Ray, placing the workers, and the worker itself.

A worker is a long-lived Ray actor holding its own :class:`~regionstyle.session.Session` (so its models and
style targets are built once) and doing, per image, exactly what the single-machine batch does: the same
``ImageWork.one`` (fingerprint, skip when up to date, "started" marker, ``files.stylize_file``, complete
manifest). Placement (:func:`place_workers`) is a pure function of the nodes Ray reports: one worker per GPU
on a node with GPUs, else ``workers_per_node`` CPU workers, each with a fixed torch thread count so that the
workers of one node never ask for more threads than it has cores.

Nothing here imports Ray at module level: the plain batch never loads it (see :func:`import_ray`).
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from regionstyle.batch.plan import BatchItem, BatchOptions
from regionstyle.batch.run import BatchEvent
from regionstyle.batch.run import ImageWork  # the one per-image function, shared with run_batch
from regionstyle.errors import BadInput, MissingDependency, RegionStyleError

log = logging.getLogger(__name__)

# Variables a worker takes from the driver: where weights are cached and whether downloads are allowed.
DRIVER_ENVIRONMENT = ("REGIONSTYLE_", "TORCH_HOME", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "XDG_CACHE_HOME")


def import_ray() -> Any:
    """The ``ray`` module, or MissingDependency naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise MissingDependency('running a batch on a Ray cluster needs Ray: pip install "regionstyle[ray]" '
                                "(or run without --cluster/--ray on this machine)") from None
    return ray


def connect(ray: Any, address: str) -> bool:
    """Join the cluster at ``address``; whether this call connected (so the caller should disconnect).

    ``auto``: the cluster that ``RAY_ADDRESS`` names, else a new local one on this machine (ended with the
    batch). An already connected process (a notebook, a test) is used as it is.
    """
    if ray.is_initialized():
        return False
    target = (os.environ.get("RAY_ADDRESS") or "local") if address == "auto" else address
    check_reachable(target)
    extra = {"include_dashboard": False} if target == "local" else {}
    try:
        ray.init(address=target, logging_level=logging.WARNING, **extra)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RegionStyleError(f"cannot join the Ray cluster at {target}: {exc}") from None
    return True


def check_reachable(address: str, *, timeout: float = 10.0) -> None:
    """RegionStyleError unless a ``host:port`` (or ``ray://host:port``) address accepts a connection: given
    a wrong address, Ray's own connection attempt retries for minutes."""
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not port.isdigit():
        return  # "local", or a form only Ray knows: left to ray.init
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RegionStyleError(f"cannot join the Ray cluster at {address}: {exc.strerror or exc}; is it running "
                               "(ray start --head on its head node), and is this its head's host:port?") from None


@dataclass(frozen=True)
class WorkerSpec:
    """One worker to start: on which node, with which Ray resources, torch threads and device."""

    node: str  # Ray node id
    host: str  # the node's address, for messages
    num_cpus: float
    num_gpus: float
    threads: int
    device: str


def place_workers(nodes: Sequence[Mapping[str, Any]], *, workers_per_node: int, device: str | None
                  ) -> list[WorkerSpec]:
    """Workers for the alive ``nodes`` (entries as ``ray.nodes()`` gives them).

    A node with GPUs gets one worker per GPU (``num_gpus=1``, device ``cuda``: Ray shows each worker only
    its own GPU) unless ``device`` is cpu or mps; a node without gets ``workers_per_node`` workers sharing
    its CPUs, each with ``cores // workers_per_node`` threads (at least 1). ``device`` cuda uses GPU nodes
    only. Raises BadInput when no worker can be placed.
    """
    if workers_per_node < 1:
        raise BadInput(f"--workers: expected at least 1 worker per node, got {workers_per_node}")
    wants_gpu = device in (None, "auto") or device.startswith("cuda")
    specs: list[WorkerSpec] = []
    for node in nodes:
        if not node.get("Alive", False):
            continue
        resources = node.get("Resources", {})
        cpus, gpus = float(resources.get("CPU", 0)), int(resources.get("GPU", 0))
        name, host = node["NodeID"], node.get("NodeManagerAddress", "?")
        if gpus and wants_gpu:
            share = cpus / gpus
            specs += [WorkerSpec(name, host, share, 1, max(1, math.floor(share)), "cuda")] * gpus
        elif cpus and not (device or "").startswith("cuda"):
            share = cpus / workers_per_node
            cpu_device = "mps" if device == "mps" else "cpu"
            specs += [WorkerSpec(name, host, share, 0, max(1, math.floor(share)), cpu_device)] * workers_per_node
    if not specs:
        what = "no GPU" if (device or "").startswith("cuda") else "no CPU or GPU to run a worker on"
        raise BadInput(f"the Ray cluster has {what} ({len(nodes)} node(s) known); "
                       "add nodes, or choose another --device")
    return specs


@dataclass(frozen=True)
class DriverHome:
    """What a worker takes from the driver: its working folder (relative paths mean the same on every node
    of a shared filesystem) and the variables of :data:`DRIVER_ENVIRONMENT`."""

    cwd: str
    environment: Mapping[str, str]

    @classmethod
    def here(cls) -> DriverHome:
        return cls(os.getcwd(), {k: v for k, v in os.environ.items() if k.startswith(DRIVER_ENVIRONMENT)})


class BatchWorker:
    """A Ray actor (wrapped with ``ray.remote`` at run time): one Session, images one at a time."""

    def __init__(self, options: BatchOptions, make_session: Callable[[], Any], spec: WorkerSpec,
                 home: DriverHome) -> None:
        os.environ.update(home.environment)
        if os.path.isdir(home.cwd):
            os.chdir(home.cwd)  # else only absolute paths work on this node (see the README's assumptions)
        settings = {**options.settings, "device": spec.device}
        if settings.get("threads") is None:
            settings["threads"] = spec.threads
        self.work = ImageWork(replace(options, settings=settings), make_session())

    def where(self) -> str:
        return f"{socket.gethostname()} pid {os.getpid()}"

    def one(self, item: BatchItem, index: int, total: int) -> BatchEvent:
        return self.work.one(item, index, total, None)
