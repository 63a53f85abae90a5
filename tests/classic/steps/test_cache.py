"""The content-keyed step cache (seglight.classic.steps.cache), on its own."""

from __future__ import annotations

import threading

import numpy as np

from seglight.classic.steps import StepCache


def test_image_key_follows_content_dtype_and_shape():
    cache = StepCache()
    image = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    key = cache.image_key(image)
    assert key.startswith("image:") and cache.image_key(image.copy()) == key
    assert cache.image_key(image.astype(np.float64)) != key
    assert cache.image_key(image.reshape(2, 4, 3)) != key
    changed = image.copy()
    changed[0, 0, 0] += 1
    assert cache.image_key(changed) != key


def test_least_recently_used_goes_first_and_an_oversized_value_is_not_stored():
    one = np.zeros(100, np.uint8)  # 100 bytes
    cache = StepCache(max_bytes=250)
    cache.put("a", one)
    cache.put("b", one.copy())
    assert cache.get("a") is one  # "a" is now the most recently used
    cache.put("c", one.copy())
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.nbytes == 200 and len(cache) == 2
    cache.put("big", np.zeros(300, np.uint8))
    assert "big" not in cache and cache.nbytes == 200
    cache.put("pair", (one, one))  # a step with two outputs counts both
    assert cache.nbytes <= 250 and "pair" in cache
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0 and cache.get("a") is None


def test_threads_share_one_cache():
    cache = StepCache(max_bytes=10_000)

    def put_many(offset):
        for i in range(200):
            cache.put(f"{offset}:{i}", np.zeros(100, np.uint8))

    threads = [threading.Thread(target=put_many, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.nbytes == 100 * len(cache) <= 10_000
