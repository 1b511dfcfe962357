"""Processing a studio's website into workshops: discover, fetch, extract, match, save.

Pure domain code. It reports through a Reporter (``reporting.Reporter``) and knows nothing of SSE.
Pages are read over HTTP (``fetch``) or, for ``render_js`` studios, through headless Chromium
(``render``); workshops come from schema.org data (``extract``) or an LLM (``llm``).
"""
