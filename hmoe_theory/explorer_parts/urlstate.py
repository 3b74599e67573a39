"""The page's URL fragment as a widget (anywidget): how the explorer keeps its view in the address bar.

``page`` is set by the browser: the fragment (``location.hash`` without ``#``) when the widget is first drawn
and whenever the user edits it (``hashchange``); the app applies it. ``fragment`` is set by the app after each
computation and written to the address bar with ``history.replaceState`` (no reload, no history entry), so the
address is always a permalink of the view. Inside JupyterLab or the classic notebook the address belongs to the
notebook (paths ``/lab``, ``/notebooks``, ``/doc``, ``/tree``), so nothing is written there (the app shows the
permalink as text instead). Voila's page carries JupyterLab's classes too, so the test is on the path.
"""

from __future__ import annotations

import anywidget
import traitlets

ESM = r"""
function inNotebook() {  // JupyterLab, Notebook 7 and the classic notebook own the address; Voila does not
  return /\/(lab|notebooks|doc|tree|edit)(\/|$)/.test(window.location.pathname);
}
export default {
  render({ model, el }) {
    el.classList.add('hmoe-url-state');
    const read = () => {
      const text = window.location.hash.replace(/^#/, '');
      if (text && text !== model.get('page')) {
        model.set('page', text);
        model.save_changes();
      }
    };
    const write = () => {
      const text = model.get('fragment');
      if (text && !inNotebook() && window.location.hash.replace(/^#/, '') !== text) {
        window.history.replaceState(window.history.state, '', '#' + text);
      }
    };
    if (window.location.hash.length > 1) { read(); } else { write(); }
    model.on('change:fragment', write);
    window.addEventListener('hashchange', read);
    return () => { window.removeEventListener('hashchange', read); };
  }
};
"""


class UrlFragment(anywidget.AnyWidget):
    """Two-way link between the app and ``location.hash`` (see the module docstring)."""

    _esm = ESM
    page = traitlets.Unicode("").tag(sync=True)
    fragment = traitlets.Unicode("").tag(sync=True)
