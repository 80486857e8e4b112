"""Hostile inputs: huge, empty, binary, mixed-script, emoji-only and malformed text and JSON."""
from __future__ import annotations

from hypothesis import strategies as st

EMOJI = "😀🚰🕳🔥💧🏚️👍🏻🇷🇺‍♀️✅❌🤬😡🙏"
MIXED = ("нет воды вOда ёлка Симферополь Ялта Керчь пгт с. ул. Ленина Старый Крым Sevastopol water "
         "الماء 水 ミズ ‎‏ ̶̷ ̈ \u200b\u200d\ufeff\u00a0\t\r\n\x00\x1b\u2028\u2029 # @ https://vk.com/id1 [id1|Вася]")


def one_line(error: BaseException | str) -> bool:
    """A clear error: a non-empty message on one line."""
    message = str(error)
    return bool(message.strip()) and "\n" not in message and "\r" not in message


mixed_text = st.text(alphabet=st.sampled_from(sorted(set(MIXED))), max_size=200)
emoji_text = st.text(alphabet=st.sampled_from(sorted(set(EMOJI))), min_size=1, max_size=50)
binary_text = st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape"))
huge_text = st.builds(lambda chunk, n: chunk * n, st.text(min_size=1, max_size=12), st.integers(2_000, 12_000))
texts = st.one_of(st.just(""), st.text(max_size=300), mixed_text, emoji_text, binary_text, huge_text)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                         st.floats(allow_nan=False, allow_infinity=False), texts)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=20)


def toml_value(value) -> str:
    """An inline TOML literal for str/int/float/bool/list values (JSON spelling is valid TOML for these)."""
    import json

    return json.dumps(value, ensure_ascii=False)


toml_scalars = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
                         mixed_text.map(lambda s: s[:40]))
toml_values = st.one_of(toml_scalars, st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=8)), max_size=3))

# Values the database, not Python, used to refuse: long ids, huge or non-finite numbers, odd dates.
long_ids = st.builds(lambda s, n: (s or "x") * n, st.text(min_size=1, max_size=8), st.integers(17, 90))
hostile_scalars = st.one_of(st.integers(-(10**40), 10**40), st.sampled_from([float("nan"), float("inf"), 1e20]),
                            long_ids, st.sampled_from(["0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59+00:00",
                                                       "9999-12-31T23:59:59-12:00", "2026-11-20T10:00:00"]))
hostile_values = st.one_of(json_values, hostile_scalars,
                           st.integers(60, 70).map(lambda n: json_nested(n)))


def json_nested(depth: int):
    """A list nested `depth` deep. Example: json_nested(2) == [[0]]."""
    value = 0
    for _ in range(depth):
        value = [value]
    return value
