"""hmoe-theory: machine-checked statements about attention as a mixture of experts.

Layers (data flows one way): ``families`` -> ``attention`` | ``interactions`` | ``geometry`` |
``estimation`` -> ``experiments`` -> ``cli`` / ``proofs_check`` / notebooks.

The objects the README shows are importable from here; each is imported on first use (PEP 562), so
``import hmoe_theory`` loads nothing heavy:

* families: :class:`Mixture`, :func:`gate_expert`, :class:`ParametricFunction`, :class:`Gate`, :class:`Expert`;
* the derived Newton system: :class:`DerivedSystem`;
* interactions: :func:`fisher_information`; geometry: :class:`PullbackMetric`;
* estimation: :func:`fit_least_squares`, :class:`LeastSquaresMoE`, :class:`GaussianMoEEM`, :class:`Setting`;
* verdicts: :class:`Status`.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

#: public name -> module that defines it (relative to this package)
_PUBLIC = {
    "DerivedSystem": ".newton_system",
    "Expert": ".families",
    "Gate": ".families",
    "Mixture": ".families",
    "ParametricFunction": ".families",
    "gate_expert": ".families",
    "fisher_information": ".interactions.fisher",
    "PullbackMetric": ".geometry",
    "GaussianMoEEM": ".estimation",
    "LeastSquaresMoE": ".estimation",
    "Setting": ".estimation",
    "fit_least_squares": ".estimation.least_squares",
    "Status": ".certify",
}

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'hmoe_theory' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
