"""The model input: lemmas without function words, joined by spaces (negations 'не', 'нет', 'без' are kept)."""
from __future__ import annotations

STOPWORDS = frozenset(
    "в во на с со к ко по о об от до из за у для при и а но или же ли бы то что как так этот тот это который "
    "весь свой наш ваш мой твой его ее их он она они оно мы вы я ты быть также уже еще вот там тут здесь где "
    "когда".split()
)


def model_text(lemma_seq: list[str]) -> str:
    """'в доме нет воды' lemmas -> 'дом нет вода'."""
    return " ".join(w for w in lemma_seq if w not in STOPWORDS)
