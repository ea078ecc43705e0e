"""Unicode ranges of the scripts written without spaces between words, for regex classes:
each named once, so that rules, clustering and folding read Chinese, Japanese and Korean
alike.

Strings of ranges (`"\\u3040-\\u309f"`) to put inside `[...]`. Pure data.
"""

from __future__ import annotations

# Chinese characters (kanji, hanzi): unified ideographs, extension A, compatibility ones,
# and extensions B to H
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HIRAGANA = "\u3040-\u309f"
KATAKANA = "\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # phonetic extensions, half-width ones
KANA = HIRAGANA + KATAKANA
HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # jamo, compatibility jamo, syllables
THAI_LAO_MYANMAR_KHMER = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
UNSPACED = THAI_LAO_MYANMAR_KHMER + HANGUL + KANA + HAN
