"""Root pytest configuration: notebooks executed by nbmake run in their fast mode.

The kernel inherits this process's environment, so ``HMOE_FAST=1`` reaches every notebook; a reader
running a notebook by hand gets the full mode unless they set it.
"""

import os

os.environ.setdefault("HMOE_FAST", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # 2 shared cores: threaded BLAS slows small matmuls ~100x
os.environ.setdefault("MPLBACKEND", "Agg")
