"""The offline demo, an app of its own (``DEMO=1``): fake studio websites served under /demo/sites/
and the data the `demo` command loads."""
