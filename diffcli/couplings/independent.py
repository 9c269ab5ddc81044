"""Independent pairs: x0 from the data and x1 from the source, drawn apart (the default)."""

from diffcli.couplings.base import COUPLINGS, Coupling

COUPLINGS.register("independent")(Coupling("independent", "x0 and x1 drawn independently (plain rectified flow)"))
