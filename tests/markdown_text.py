"""What a reader sees of Markdown built with ui.text.plain, for tests that read AppTest's raw element bodies."""

import re

from ui.text import WORD_JOINER

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """The text with plain()'s backslash escapes and word joiners undone ("run\\-1" -> "run-1")."""
    return _ESCAPED.sub(r"\1", markdown).replace(WORD_JOINER, "")
