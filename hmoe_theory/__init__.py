"""hmoe-theory: machine-checked statements about attention as a mixture of experts.

Layers (data flows one way): ``families`` -> ``attention`` | ``interactions`` | ``geometry`` |
``estimation`` -> ``experiments`` -> ``cli`` / ``proofs_check`` / notebooks.
"""

__version__ = "0.1.0"
