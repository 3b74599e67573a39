"""Parts of the interactive explorer. :mod:`hmoe_theory.explorer` is the public entry point and gathers them;
data flows one way, from these modules to it (no part imports :mod:`hmoe_theory.explorer`).

* :mod:`.family` -- relations among the derivatives of a family, identifiability (``explore_family``);
* :mod:`.coefficients` -- relations whose coefficients depend on theta, reconstructed as expressions;
* :mod:`.curvature` -- the Fisher-Rao curvature field of a typed mean map (``explore_curvature``);
* :mod:`.attention` -- relations of one gated attention entry (``explore_attention``);
* :mod:`.figures` -- the live plotly heat map and the PNG / SVG / CSV exports of a curvature field;
* :mod:`.snippets` -- "copy as code": the Python call equivalent to the widget's state;
* :mod:`.gallery` -- the papers' examples, ready to load into the widget;
* :mod:`.jobs` -- computations in a worker thread with a time limit and cancel;
* :mod:`.permalink`, :mod:`.urlstate` -- the view as the page's URL fragment;
* :mod:`.widget` -- the ipywidgets layout.
"""
