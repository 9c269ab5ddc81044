"""Stored pairs: the (source, data) pairs of `train.pairs`, made by `diffcli reflow`.

The training step takes each batch's x0 and x1 together from the pairs file (training/step.py),
so nothing is drawn or matched here; this entry names the coupling in the child's config, so a
reflowed model knows its x1 depends on x0 (it has no score, for one)."""

from diffcli.couplings.base import COUPLINGS, Coupling

COUPLINGS.register("pairs")(Coupling(
    "pairs", "the stored (source, data) pairs of train.pairs, drawn together (diffcli reflow)",
))
