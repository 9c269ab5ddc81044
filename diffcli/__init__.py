"""diffcli: diffusion and flow models as differential equations.

Pipeline (one sub-package per stage):
data -> processes -> nn -> training -> sampling -> metrics -> runs -> cli.

Importing this package is cheap: JAX is only imported by the modules that need it,
so ``diffcli --help`` stays fast.
"""

import os as _os

__version__ = "0.1.0"

# Equinox's runtime error checks are host callbacks; programs containing them are not stored
# in JAX's persistent compilation cache. We turn them into NaNs and check every diffrax
# `sol.result` ourselves (see diffcli.sampling.solve), so failures stay loud.
_os.environ.setdefault("EQX_ON_ERROR", "nan")
