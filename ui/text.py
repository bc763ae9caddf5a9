"""Text from outside, shown as plain text: run and folder names, file names, links, uploads, archives, typed text.

Streamlit reads the body of st.markdown, st.caption, st.info / success / warning
/ error, titles and headers, widget labels, and metric labels *and values* as
Markdown with extensions: ``*x*``, ``[x](url)``, ``$x$`` (LaTeX), ``:red[x]``,
``:material/home:``, ``:smile:``, HTML tags, and bare web or mail addresses,
which become links. A run folder named ``[click](https://example.com)`` or an
upload named ``*cat*.png`` must read exactly as it is, so every piece of text
that did not come from the source code goes through ``plain`` on its way into
one of those calls; the Markdown around it stays ours:

    st.success(f"Imported run **{plain(run.name)}**.")
    st.error(plain(f"Could not import {upload.name}: {err}"))

Options of st.selectbox / st.multiselect / st.radio (``format_func``),
dataframe cells, st.code and st.text show text as it is and need no escaping
(escaping them would show the backslashes). HTML built for ``st.html`` (or
``st.markdown(..., unsafe_allow_html=True)``) puts each piece of outside text,
``html.escape``d, in an element of its own (see ``viz.sequences``): Streamlit's
Markdown turns addresses and shortcodes into links and images within one text node.
"""

from __future__ import annotations

import re

# Invisible, zero-width, and not a break: placed where a shortcode or an address would start.
WORD_JOINER = "\u2060"
# Every ASCII punctuation character; CommonMark shows each literally after a backslash.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Emoji and icon shortcodes (":smile:") and bare addresses ("www.x.org", "a@b.org", "https://...") are
# found in the text after the backslashes are gone, so a word joiner after ":" and "@" and inside
# "www" keeps them from matching ("https://" needs its ":" and "//" side by side).
_WWW = re.compile(r"(?i)(w)(ww)")


def plain(text) -> str:
    """``text`` (anything; str() of it) escaped so Streamlit's Markdown shows it character for character."""
    escaped = _PUNCTUATION.sub(r"\\\1", str(text))
    escaped = escaped.replace("\\:", "\\:" + WORD_JOINER).replace("\\@", "\\@" + WORD_JOINER)
    return _WWW.sub(rf"\1{WORD_JOINER}\2", escaped)


__all__ = ["plain", "WORD_JOINER"]
