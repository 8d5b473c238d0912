"""One scale's loss and gradient captured once as a CUDA graph, then replayed for every evaluation.

Why: on a GPU one evaluation is about 900 small kernels, and launching them from Python costs far more
than running them (an H100 profile at 512 px: 639 ms of CPU time against 34 ms of GPU work for ten
evaluations, benchmarks/README.md). A graph launches the whole forward and backward at once. Everything in
a scale's loss but the pixels is fixed (:class:`regionstyle.objective.ScaleProblem`), so one capture
serves all of the scale's evaluations; the pixels are copied into the graph's input before each replay.

Only the gram loss is captured: w2 and sliced keep a region's rows by a test on their weights
(:func:`regionstyle.style.stats.kept_rows`), a read-back and a data-dependent shape that a graph cannot
hold. They, and any capture that fails, are evaluated eagerly as before.
"""

from __future__ import annotations

import logging
from typing import Callable

import torch

from regionstyle.encoder import FeatureEncoder
from regionstyle.objective import ScaleProblem, loss_terms, stacked_terms

log = logging.getLogger(__name__)

# An evaluation: pixels (1, 3, h, w) leaf -> (loss, {term: value}), with the gradient left in pixels.grad.
Evaluation = Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]]
# Set False to evaluate eagerly on a GPU too (benchmarks/bench_cuda_graph.py compares the two).
ENABLED = True


def capturable(problem: ScaleProblem, device: torch.device) -> bool:
    """Whether this scale's loss can be replayed as a CUDA graph on ``device``."""
    return (ENABLED and device.type == "cuda"
            and all(term.target.loss == "gram" for term in problem.regions))


class GraphedEvaluation:
    """Evaluations of one :class:`ScaleProblem` on a CUDA device: the first runs eagerly (the warm-up a
    capture needs: cuDNN and cuBLAS pick and allocate their kernels there), and is followed by the capture;
    every later one is a copy of the pixels in, one replay, and one read-back of the terms."""

    def __init__(self, problem: ScaleProblem, encoder: FeatureEncoder, *, autocast_dtype: torch.dtype | None,
                 fallback: Evaluation) -> None:
        self.problem, self.encoder, self.autocast_dtype = problem, encoder, autocast_dtype
        self.fallback = fallback
        self.graph: torch.cuda.CUDAGraph | None = None
        self.failed = False
        self.pixels: torch.Tensor | None = None  # the graph's input, a leaf whose .grad is the graph's output
        self.values: torch.Tensor | None = None  # the terms, stacked in the graph (names in self.names)
        self.names: list[str] = []

    def __call__(self, pixels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        if self.failed:
            return self.fallback(pixels)
        if self.graph is None:
            return self._warm_up_and_capture(pixels)
        with torch.no_grad():
            self.pixels.copy_(pixels)
        self.graph.replay()
        pixels.grad = self.pixels.grad.clone()  # the optimiser's own; the replay overwrites the graph's
        terms = dict(zip(self.names, self.values.tolist()))
        return self.values[self.names.index("total")].clone(), terms

    def _warm_up_and_capture(self, pixels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        warm = pixels.detach().clone().requires_grad_(True)
        side = torch.cuda.Stream(device=pixels.device)
        side.wait_stream(torch.cuda.current_stream(pixels.device))
        with torch.cuda.stream(side):  # warm-up off the capture's stream, as torch.cuda.graph asks
            loss, terms = self._run(warm)
        torch.cuda.current_stream(pixels.device).wait_stream(side)
        pixels.grad = warm.grad.clone()
        result = loss.detach().clone(), dict(zip(self.names, terms.tolist()))
        # A fresh leaf for the capture: the warm-up's gradient node belongs to the side stream, and its
        # backward into the graph's own stream would wait across streams. Its .grad is allocated in capture.
        self.pixels = pixels.detach().clone().requires_grad_(True)
        graph = torch.cuda.CUDAGraph()
        try:
            # thread_local: a host application's other threads may use the GPU meanwhile; only this
            # thread's calls are checked (a conflict then fails this capture, which falls back to eager).
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                _, self.values = self._run(self.pixels)
        except RuntimeError as error:  # an operation the graph cannot hold: evaluate eagerly from here on
            log.warning("CUDA graph capture failed (%s); evaluating this scale eagerly", error)
            self.failed, self.pixels, self.values = True, None, None
            return result
        self.graph = graph
        return result

    def _run(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Loss and backward of ``pixels``; the terms stacked in one tensor (in the order of self.names)."""
        terms = loss_terms(pixels, self.problem, self.encoder, autocast_dtype=self.autocast_dtype,
                           autocast_cache=False)
        terms["total"].backward()
        self.names = list(terms)
        return terms["total"], stacked_terms(terms)
