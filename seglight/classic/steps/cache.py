"""The content-keyed step cache: a step's key hashes its block, its inputs' keys and its
argument values, and the raw image's key hashes its content, so changing one parameter
recomputes exactly the steps that use it and those downstream of them."""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

#: The default memory budget of a :class:`StepCache`.
DEFAULT_CACHE_BYTES = 4 * 2**30


def _nbytes(value: Any) -> int:
    return sum(np.asarray(v).nbytes for v in (value if isinstance(value, tuple) else (value,)))


class StepCache:
    """Step outputs by content key, least recently used dropped first.

    Args:
        max_bytes: the memory budget of the stored arrays (default 4 GiB); an output larger
            than the budget is not stored.

    The image's key is a hash of its bytes, dtype and shape, computed once per array
    object (an array changed in place keeps its old key: pass a new array instead).
    Stored arrays are shared with every run and caller that gets them: treat them as
    read-only (blocks never modify their inputs). They are not flagged read-only, because
    numba compiles every kernel a second time for read-only arrays (tens of seconds on a
    first run). Safe to share between threads (an editor's cancelled run may still be
    finishing a step while the next one starts).
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = int(max_bytes)
        self._values: OrderedDict[str, Any] = OrderedDict()
        self._bytes = 0
        self._image_keys: dict[int, tuple[weakref.ref, str]] = {}
        self._lock = threading.Lock()

    def image_key(self, image: np.ndarray) -> str:
        """The content key of ``image`` (hashed once per array object)."""
        entry = self._image_keys.get(id(image))
        if entry is not None and entry[0]() is image:
            return entry[1]
        data = np.ascontiguousarray(image)
        # SHA-1 for speed (hardware-accelerated: ~0.2 s for 150 MB), not for security.
        digest = hashlib.sha1(data.view(np.uint8).reshape(-1), usedforsecurity=False)
        digest.update(f"{data.dtype.str}{data.shape}".encode())
        key = "image:" + digest.hexdigest()
        with self._lock:
            self._image_keys = {
                i: e for i, e in self._image_keys.items() if e[0]() is not None
            }
            try:
                self._image_keys[id(image)] = (weakref.ref(image), key)
            except TypeError:  # an object without weak references: hash it again next time
                pass
        return key

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._values

    def get(self, key: str) -> Any | None:
        """The stored value of ``key`` (marked recently used), or None."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (an array or a tuple of arrays) under ``key``, evicting the least
        recently used values beyond the budget."""
        size = _nbytes(value)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._values:
                self._bytes -= _nbytes(self._values.pop(key))
            self._values[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._values.popitem(last=False)
                self._bytes -= _nbytes(old)

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored arrays."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Drop every stored value."""
        with self._lock:
            self._values.clear()
            self._bytes = 0


def _step_key(block_name: str, input_keys: Iterable[str], kwargs: Mapping[str, Any]) -> str:
    payload = json.dumps([block_name, list(input_keys), kwargs], sort_keys=True, default=repr)
    return "step:" + hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()
