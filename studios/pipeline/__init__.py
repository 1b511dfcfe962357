"""Processing a studio's website into workshops: discover, fetch, extract, match, save.

Pure domain code. It reports through a Reporter (``reporting.Reporter``) and knows nothing of SSE.
"""
