"""The offline demo: fake studio websites served under /demo/sites/ and the data the `demo` command loads."""
