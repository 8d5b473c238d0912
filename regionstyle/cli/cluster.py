"""``regionstyle batch --cluster ray``: the batch's options for running on a Ray cluster, and what is shown.

The batch command stays the same (resume, failures, exit codes, ``--json``, the overall bar); these options
only choose where images run. Ray is imported only when one of them asks for a cluster.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click

from regionstyle.cli.group import Globals
from regionstyle.cli.options import stacked

CLUSTER_OPTIONS = [
    click.option("--cluster", type=click.Choice(["ray"]),
                 help="Run the images on a Ray cluster (pip install \"regionstyle[ray]\"): one worker per GPU, "
                      "else --workers per node; every node must see the input and output paths."),
    click.option("--ray", "ray_address", metavar="ADDRESS",
                 help="The Ray cluster to join (implies --cluster ray): host:port, ray://host:port, or auto "
                      "(the cluster RAY_ADDRESS names, else a local one on this machine) [default: auto]."),
    click.option("--workers", type=click.IntRange(1, 1024), default=None,
                 help="Workers per node without GPUs, each with cores/workers torch threads "
                      "(--cluster only) [default: 1]."),
]


cluster_options = stacked(CLUSTER_OPTIONS)


def cluster_runner(cluster: str | None, ray_address: str | None, workers: int | None) -> Callable | None:
    """A function running a planned batch on the cluster asked for, or None for this machine.

    Raises MissingDependency (naming the extra) when Ray is not installed, before anything is planned.
    """
    if cluster is None and ray_address is None:
        if workers is not None:
            raise click.UsageError("--workers needs --cluster ray (or --ray ADDRESS)")
        return None
    from regionstyle.batch import ray_cluster, ray_workers

    ray_workers.import_ray()
    settings = ray_cluster.ClusterOptions(address=ray_address or "auto", workers_per_node=workers or 1)

    def run(items: Sequence[Any], options: Any, view: Any) -> Any:
        return ray_cluster.run_on_ray(items, options, cluster=settings, on_event=ClusterEvents(view))

    return run


class ClusterEvents:
    """Events of a cluster batch for the batch's view: images run side by side on other machines, so there
    is no bar per image (a "start" shows nothing), and a lost worker gets a line (a JSON line under --json)."""

    def __init__(self, view: Any) -> None:
        self.view = view

    def __call__(self, event: Any) -> None:
        if event.kind == "start":
            return
        if event.kind != "retry":
            self.view.event(event)
            return
        g: Globals = self.view.g
        if g.json:
            self.view._say(json.dumps({"event": "retry", "index": event.index + 1, "total": event.total,
                                       "input": str(event.item.source), "message": event.message}))
        if not g.quiet:
            self.view._say(f"retry   {event.item.source}: {event.message}", err=True)
