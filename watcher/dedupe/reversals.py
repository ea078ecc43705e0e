"""What tells two stories in the same wording apart as other news, beside days and
opposites (`recurring`): one reversing what the other tells, saying its news is off
("Kazakhstan to build a gallium plant" against "Kazakhstan scraps plan to build a gallium
plant", "... will not build ...", "... denies report it will build ...").

In: two cleaned texts, lower-case. Out: where their aligned wording differs by a reversal
(`reversal_swaps`). Pure computation.
"""

from __future__ import annotations

from watcher.dedupe.align import aligned
from watcher.dedupe.lexicon import NEGATION, is_cjk

# Words that reverse what a text tells, where one text has them and the other, in the same
# wording, has none: "Kazakhstan to build a gallium plant" against "Kazakhstan scraps plan
# to build ...", "... will not build ...", "... denies report it will build ...": news of
# the plan's end, not the plan told again. English and Russian words; Chinese and Japanese
# ones are found within a word, as a run is cut.
_REVERSALS = frozenset(
    """not no never won't cannot can't scraps scrapped abandon abandons abandoned cancel cancels
    cancelled canceled shelve shelves shelved deny denies denied halts halted suspend suspends
    suspended stops ceases unlikely delayed postpone postpones postponed withdraw withdraws
    withdrew withdrawn fail fails failed refuse refuses refused reject rejects rejected не нет
    отказался отказалась отказались отказалось отказывается отказываются отменил отменила
    отменили отменило отменяет отменен отменена отменено отменены приостановил приостановила
    приостановили приостановило приостанавливает приостановлен приостановлена приостановлено
    приостановлены прекратил прекратила прекратили прекратило прекращает прекращен прекращена
    прекращено прекращены остановил остановила остановили остановило останавливает отложил
    отложила отложили отложило откладывает отложен отложена отложено отложены отклонил
    отклонила отклонили отклонило отклоняет отклонен отклонена отклонено отклонены опроверг
    опровергла опровергли опровергло опровергает заморозил заморозила заморозили заморозило
    заморожен заморожена заморожено заморожены""".split()  # noqa: SIM905 - a word list reads best as words
)  # not the nouns: scrap (metal), delay(s) ("opens after delays"), halt
# those that are also adjectives: added alone before a noun ("restarts suspended gallium
# plant", "revives failed deal") they tell of the thing's past, not of news reversed
_PARTICIPLES = frozenset(word for word in _REVERSALS if word.endswith(("ed", "wn")))
# a negation that reverses nothing: "not only", "не менее" (no less than)
_NOT_REVERSING = frozenset(["only", "just", "less", "more", "менее", "более", "только"])
# prefixes that negate the word they begin: "not affected" and "unaffected", "isn't
# clear" and "unclear" tell the same; a reversal in either spelling
_NEGATING_PREFIXES = frozenset(["un", "in", "im", "il", "ir", "non", "non-", "dis"])
_CJK_REVERSALS = (
    "取消", "暂停", "暫停", "否认", "否認", "中止", "延期", "撤回", "見送", "断念", "拒否", "拒绝",
    "放弃", "放棄", "不会", "不會", "不再", "未能", "无法", "無法", NEGATION,
)  # fmt: skip
REVERSAL_SPAN = 4  # words at most on either side of an aligned difference
# verbs that reverse with the word after them: "Sojitz pulls out of gallium deal", "...
# calls off ...", "... backs out of ...", "... walks away from ..."
_PHRASAL = {
    verb: particle
    for particle, verbs in (
        ("out", "pull pulls pulled pulling back backs backed backing"),
        ("off", "call calls called calling"),
        ("away", "walk walks walked walking"),
    )
    for verb in verbs.split()
}


def _reversals(words: list[str], start: int, end: int) -> list[str]:
    """The reversing words of `words[start:end]`, each read with the word after it, which
    may lie past `end` ("not only", "yet to"), and a phrasal verb's particle with the verb
    before it ("backs" / "backs out of")."""
    found = [
        word for at, word in enumerate(words[start:end], start)
        if (_negates(word) and not _reverses_nothing(word, words[at + 1 : at + 2]))
        or (word == "yet" and words[at + 1 : at + 2] == ["to"])  # "yet to approve"
        or _phrasal(words, at)  # "pulls out of", "calls off"
        or (is_cjk(word) and any(r in word for r in _CJK_REVERSALS))
    ]  # fmt: skip
    if 0 < start < end and _phrasal(words, start - 1):  # the verb alike, its particle added
        found.insert(0, f"{words[start - 1]} {words[start]}")
    return found


def _phrasal(words: list[str], at: int) -> bool:
    """Whether `words[at]` is a verb that reverses with the particle after it ("pulls out
    of", "calls off")."""
    particle = _PHRASAL.get(words[at])
    return particle is not None and words[at + 1 : at + 2] == [particle]


def _reverses_nothing(word: str, after: list[str]) -> bool:
    """Whether a reversing word reverses nothing for the word after it: "not only", "не
    менее" (no less than), and "no" before a number (No. 1)."""
    return bool(_NOT_REVERSING.intersection(after)) or (
        word == "no" and bool(after) and after[0][:1].isdigit()
    )


def _negates(word: str) -> bool:
    """A reversing word (`_REVERSALS`), or any contraction of not ("didn't", "isn't")."""
    return word in _REVERSALS or word.endswith("n't")


def _negated_alike(a_words: list[str], b_words: list[str]) -> bool:
    """Whether one side says "not X" where the other says X with a negating prefix ("not
    affected" and "unaffected", "isn't clear" and "is unclear"): one negation, two
    spellings."""
    for one, other in ((a_words, b_words), (b_words, a_words)):
        for at, word in enumerate(one[:-1]):
            follower = one[at + 1]
            if _negates(word) and any(
                w.endswith(follower) and w[: len(w) - len(follower)] in _NEGATING_PREFIXES
                for w in other
            ):
                return True
    return False


# characters that negate the Chinese verb after them (不限制, 未批准, 没有批准), which a
# run's cut joins to it or leaves alone; not in words where they negate nothing
_HAN_NEGATORS = ("没有", "不", "未", "没")
_NOT_HAN_NEGATING = frozenset(
    ["未来", "不断", "不过", "不仅", "不少", "不同", "不久", "不论", "不管", "没收"]
)


def _han_negation(
    a_words: list[str], i1: int, i2: int, b_words: list[str], j1: int, j2: int
) -> tuple[list[str], list[str]] | None:
    """Where one side of an aligned difference negates, with 不, 未 or 没(有), the verb the
    other side holds (中国限制镓出口 / 中国不限制镓出口), each side's reversal found: read
    with the word after each side, as the cut may put the verb there."""
    a_text, b_text = "".join(a_words[i1 : i2 + 1]), "".join(b_words[j1 : j2 + 1])
    for one, other, swap in ((a_text, b_text, False), (b_text, a_text, True)):
        for negator in _HAN_NEGATORS:
            at = one.find(negator)
            if at < 0 or negator in other or one[at : at + 2] in _NOT_HAN_NEGATING:
                continue
            verb = one[at + len(negator) : at + len(negator) + 2]
            if verb and verb in other:
                return ([], [negator]) if swap else ([negator], [])
    return None


def reversal_swaps(a_text: str, b_text: str, *, cut: bool = False) -> list[str]:
    """Aligned differences of at most `REVERSAL_SPAN` words on either side where one text
    holds a word that reverses what it tells (`_REVERSALS`) and the other none, in texts
    that share most of their wording, as "-/scraps" (a text's side without one is "-").
    Not one: a contraction for its words ("didn't" / "did not"), "not X" for X with a
    negating prefix ("not affected" / "unaffected"); participles added (`_PARTICIPLES`:
    "restarts suspended plant"); words added at the end of either text ("Gallium plant
    opens" and "... opens after delays"; a reversal in place of other words there is one:
    项目启动/项目取消, and so is a Chinese or Japanese one added there, where the verb and
    its negation come last: 開始/開始せず); and in texts `cut` short (leads) any
    difference at the end: one outlet's cut may end in "... but did not" where the other's
    ends before it."""
    a_words, b_words, opcodes, reworded = aligned(a_text, b_text)
    if reworded:
        return []
    swaps = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal" or i2 - i1 > REVERSAL_SPAN or j2 - j1 > REVERSAL_SPAN:
            continue
        if tag == "replace" and _negated_alike(a_words[i1:i2], b_words[j1:j2]):
            continue
        a_found, b_found = _reversals(a_words, i1, i2), _reversals(b_words, j1, j2)
        if not a_found and not b_found and (neg := _han_negation(a_words, i1, i2, b_words, j1, j2)):
            a_found, b_found = neg
        at_end = i2 == len(a_words) or j2 == len(b_words)
        verb_final = any(map(is_cjk, a_found + b_found))  # its verb, and negation, come last
        if at_end and (cut or (tag != "replace" and not verb_final)):  # "... after delays"
            continue
        if tag != "replace" and _PARTICIPLES.issuperset(a_found or b_found):
            continue  # "restarts suspended plant": an adjective, the plant's past
        if bool(a_found) != bool(b_found):
            swaps.append(f"{' '.join(a_found) or '-'}/{' '.join(b_found) or '-'}")
    return swaps
