"""Parts of the interactive explorer (:mod:`hmoe_theory.explorer` is the public entry point).

* :mod:`.coefficients` -- relations whose coefficients depend on theta, reconstructed as expressions;
* :mod:`.figures` -- the live plotly heat map and the PNG / SVG / CSV exports of a curvature field;
* :mod:`.snippets` -- "copy as code": the Python call equivalent to the widget's state;
* :mod:`.gallery` -- the papers' examples, ready to load into the widget;
* :mod:`.widget` -- the ipywidgets layout.
"""
