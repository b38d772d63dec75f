"""The numpy runtime: autograd, layers, training and the forecasters `modreg run` builds.

Only this package imports numpy; registry commands never import it (DESIGN.md section 4).
Submodules are imported explicitly (`from modreg.runtime.autograd import Tensor`).

OpenBLAS's idle worker threads spin for about 2**28 cycles (a tenth of a second) after each
product before they sleep, so the core that modreg's own threads (`autograd.blas.split_rows`,
the recurrent scans) would use is taken by a thread doing nothing: TFT's step took 1.36 s
instead of 1.07 s on an idle 2-core machine. OpenBLAS reads how long to spin only when numpy
loads it, so this package asks for 2**4 cycles before numpy is imported, unless the environment
already says (`OPENBLAS_THREAD_TIMEOUT`); a program that imported numpy first keeps its value.
"""

import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
