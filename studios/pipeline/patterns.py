"""Studios' link patterns, run on RE2.

RE2 matches in time linear in the link whatever the pattern, so a pattern such as ``(a+)+$`` can
never hold a process for minutes the way backtracking in Python's ``re`` does. The price is that
lookarounds and backreferences do not exist there; such a pattern is refused where it is entered.
"""

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the user's input, reported to them, not a server fault


class InvalidLinkPattern(ValueError):
    """RE2 cannot compile the pattern; str() says why."""


def compile_link_pattern(pattern: str) -> re2._Regexp:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        raise InvalidLinkPattern(
            reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        ) from None
