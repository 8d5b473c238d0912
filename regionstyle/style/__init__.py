"""A region's style: what a rule's style stands for and the statistics a region must match.

:mod:`~regionstyle.style.exemplars` turns a rules-file style (built-in, painting, blend) into exemplar
images; :mod:`~regionstyle.style.targets` computes their statistics once per scale; the statistics
themselves are pure functions (:mod:`~regionstyle.style.gram`).
"""
