"""Make a dead letter fit the dead-letter topic, so that no input can stop a partition.

A dead letter carries the original key and value in base64 (4/3 of their size), and its Kafka
key is the original key again: an input the broker accepted can make a dead letter larger
than the producer or the dead-letter topic allows. Publishing it would fail on every retry,
and the worker would meet the same input again after each restart. :func:`fit_dead_letter`
keeps what fits instead: a prefix of the key and of the value, flagged as truncated, while
``original_size``, ``original_sha256`` and the source coordinates let a reader fetch the whole
message from the input topic.
"""

from __future__ import annotations

import base64
from typing import Final

from schemas import DeadLetter
from streams.topics import DEAD_LETTERS

#: Bytes a record needs besides its key and value (batch and record headers, lengths, the
#: request's framing): generous, so a dead letter cut to the limit is accepted.
RECORD_OVERHEAD_BYTES: Final = 1024
#: The least room given to the original value once the key is cut (when the budget allows).
_KEY_SHARE: Final = 0.25


def wire_size(dead: DeadLetter) -> int:
    """Bytes of the dead letter as a record: its key, its JSON value and the record overhead."""
    key = DEAD_LETTERS.encode_key(dead)
    return len(DEAD_LETTERS.encode(dead)) + (len(key) if key is not None else 0) + RECORD_OVERHEAD_BYTES


def _b64_len(size: int) -> int:
    return 4 * ((size + 2) // 3)


def fit_dead_letter(dead: DeadLetter, max_bytes: int) -> DeadLetter:
    """``dead`` itself when it fits in ``max_bytes``, else a copy with a cut key and value.

    The key is cut first to at most a quarter of the room (it is the record's key too, so each
    byte costs 7/3), the value gets the rest. The result always fits when ``max_bytes`` leaves
    room for the dead letter's metadata (a few kilobytes at most).
    """
    if wire_size(dead) <= max_bytes:
        return dead
    key = base64.b64decode(dead.original_key) if dead.original_key is not None else None
    value = dead.original_bytes()
    stub = dead.model_copy(
        update={
            "original": "",
            "original_key": "" if key is not None else None,
            "original_truncated": True,
            "original_key_truncated": key is not None,
            "original_size": dead.original_size if dead.original_size is not None else len(value),
        }
    )
    room = max(0, max_bytes - wire_size(stub))
    # Per kept key byte: 1 in the record key + 4/3 in the value; per value byte: 4/3.
    key_keep = 0 if key is None else min(len(key), int(room * _KEY_SHARE) * 3 // 7)
    room -= key_keep + _b64_len(key_keep)
    value_keep = min(len(value), max(0, room) // 4 * 3)
    while True:
        cut = _cut(dead, key, value, key_keep, value_keep)
        if wire_size(cut) <= max_bytes or (key_keep == 0 and value_keep == 0):
            return cut
        # Only rounding gets here: shrink by a tenth until it fits.
        key_keep, value_keep = key_keep * 9 // 10, value_keep * 9 // 10


def _cut(dead: DeadLetter, key: bytes | None, value: bytes, key_keep: int, value_keep: int) -> DeadLetter:
    update: dict[str, object] = {
        "original": base64.b64encode(value[:value_keep]).decode("ascii"),
        "original_truncated": value_keep < len(value),
    }
    if key is not None:
        update["original_key"] = base64.b64encode(key[:key_keep]).decode("ascii")
        update["original_key_truncated"] = key_keep < len(key)
    return dead.model_copy(update=update)
