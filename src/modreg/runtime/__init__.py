"""The numpy runtime: autograd, layers, training and the forecasters `modreg run` builds.

Only this package imports numpy; registry commands never import it (DESIGN.md section 4).
Submodules are imported explicitly (`from modreg.runtime.autograd import Tensor`).
"""
