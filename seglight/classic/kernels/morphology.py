"""Compiled (numba) kernels of :mod:`seglight.classic.morphology`: the seeded watershed, the
labelled local-maximum search of the watershed cut, per-slice hole filling and the medial
axis (the distance transforms are in :mod:`seglight.classic.kernels.distance`).

**Seeded watershed with watershed lines** (:func:`flood`): a priority flood over *ranked*
intensities with one FIFO queue per rank (a bucket queue): O(voxels) instead of a binary
heap's O(voxels · log frontier) once the seeds have left, each voxel queued once. The
flooding rules and the order of ties are those of the reference's watershed (scikit-image
0.26), which the LMNB1 interphase masks depend on:

- seeds enter at their own intensity, age 0; seeds of equal intensity leave in the order
  the reference's binary heap releases equal items (replayed with the same heap);
- a voxel's priority is its intensity raised to the priority of the voxel it was reached
  from (the water level never goes down), ties popped first-in first-out;
- a voxel is labelled when it leaves the queue: with the label of the voxel that queued it,
  unless a neighbour already carries another label, in which case it becomes a watershed
  line (label 0, excluded from further label comparisons) — it still floods its
  neighbours, so the basins behind it are reached as before.

Queuing a voxel once is equivalent to the reference's repeated pushes: a later copy never
has a smaller priority (the water level only rises), so the first copy always leaves first
and the others change nothing.

**Local maxima per object** (:func:`label_local_maxima`, :func:`keep_spaced_peaks`): the
reference finds seeds with ``peak_local_max(labels=...)``, a Python loop over objects; here
one pass over the volume compares each voxel with its own object's voxels in its window.
"""

from __future__ import annotations

import numba
import numpy as np

#: Voxel states of :func:`flood` (column 0 of its state array): > 0 labelled; 0 not reached
#: yet; < 0 queued, carrying the label it will take (negated); ``LINE`` a watershed line or
#: outside the mask. A seed that turns out to be a line keeps its label, plus ``KEPT``, so
#: that it no longer counts as a neighbour's label but still comes out labelled.
LINE = np.int32(np.iinfo(np.int32).min)
KEPT = np.int32(1 << 30)
#: :func:`flood` replays the reference's queue, copies included, until this many pushes per
#: voxel; a normal flood makes fewer than 7 (one per neighbour, plus a few from lines).
MAX_PUSHES_PER_VOXEL = 16


#: A heap item's key: its rank in the high bits, its age (push count) in the low ones, so
#: that one integer comparison orders by (rank, age) as the reference's heap does.
AGE_BITS = 40


@numba.njit(inline="always")
def _heap_push(heap, items, key, voxel):
    """Append and sift up (a textbook binary min-heap of ``[key, voxel]`` rows, one cache
    line per pair); returns the new item count."""
    child = items
    while child > 0:
        parent = (child + 1) // 2 - 1
        if key < heap[parent, 0]:
            heap[child, 0], heap[child, 1] = heap[parent, 0], heap[parent, 1]
            child = parent
        else:
            break
    heap[child, 0], heap[child, 1] = key, voxel
    return items + 1


@numba.njit(inline="always")
def _heap_pop(heap, items):
    """Take the root: the last item moves to the root and sifts down, the smaller child
    winning and the left one on a tie. Returns (key, voxel, new item count)."""
    key, voxel = heap[0, 0], heap[0, 1]
    items -= 1
    if items == 0:
        return key, voxel, items
    last_key, last_voxel = heap[items, 0], heap[items, 1]
    i = 0
    while True:
        smallest = i
        smallest_key = last_key
        left, right = 2 * i + 1, 2 * i + 2
        if left >= items:
            break
        if heap[left, 0] < smallest_key:
            smallest, smallest_key = left, heap[left, 0]
        if right < items and heap[right, 0] < smallest_key:
            smallest = right
        if smallest == i:
            break
        heap[i, 0], heap[i, 1] = heap[smallest, 0], heap[smallest, 1]
        i = smallest
    heap[i, 0], heap[i, 1] = last_key, last_voxel
    return key, voxel, items


@numba.njit(inline="always")
def _visit(state, offsets, v):
    """Label ``v`` on leaving the queue, or make it a line when a neighbour carries another
    label (a seed that is a line keeps its label, plus ``KEPT``). Returns its label."""
    seed = state[v, 0] > 0
    label = state[v, 0] if seed else -state[v, 0]
    line = False
    for k in range(offsets.size):
        other = state[v + offsets[k], 0]
        if 0 < other < KEPT and other != label:
            line = True
            break
    if line:
        state[v, 0] = label + KEPT if seed else LINE
    else:
        state[v, 0] = label
    return label


@numba.njit(inline="always")
def _append(state, head, tail, level, w):
    state[w, 2] = -1
    if tail[level] == -1:
        head[level] = w
    else:
        state[tail[level], 2] = w
    tail[level] = w


@numba.njit(inline="always")
def _labels_still_claiming(state, offsets, is_seed, first):
    """How many labels the tied seeds waiting at the head of a bucket (from ``first`` on)
    can still act with: 0, 1 or 2 (two or more).

    A waiting seed acts when it can claim a free neighbour, or when a waiting seed of
    another label is its neighbour (its visit, line or label, then depends on which of
    them leaves first). Any other seed claims nothing and its visit reads only labels that
    no seed of its rank changes, so where it leaves among its tied seeds is irrelevant.
    Which voxels are free when a rank's seeds leave does not depend on labels or on the
    order of ties (every voxel leaves the queue at the same level), so any flood may count.
    """
    acting = 0
    v = first
    while v != -1 and is_seed[v]:
        label = state[v, 0]
        for k in range(offsets.size):
            w = v + offsets[k]
            other = state[w, 0]
            if is_seed[w] and 0 < other < KEPT and other != label:
                return 2
            if other == 0:
                if acting == 0:
                    acting = label
                elif acting != label:
                    return 2
        v = state[v, 2]
    return 0 if acting == 0 else 1


@numba.njit(cache=True)
def flood(state, offsets, seed_rows, n_ranks, replay_until, check, is_seed, bucketed):
    """Flood the seeds of ``state`` in place.

    One row per voxel keeps everything a visit touches in one cache line: the voxel's
    state (see :data:`LINE`), its intensity rank and the next voxel in its rank's queue.

    Two phases, as the reference's priority queue orders them. Its seeds enter at their own
    intensity with age 0, so seeds of equal intensity are ties that its binary heap
    releases in an order set by its layout, which every push (copies of queued voxels
    included) and pop changes. That order matters only where tied seeds carry different
    labels (permuting seeds of one label permutes blocks of same-label work, which changes
    no label and no line): until the seeds of the highest such rank, ``replay_until``,
    have left, the flood is replayed with the same textbook heap (copies from watershed
    lines stop after :data:`MAX_PUSHES_PER_VOXEL` pushes per voxel: beyond that the
    reference's queue grows without bound). Seeds (age 0) leave before everything else
    of their rank, and everything queued after them has a distinct (priority, age), so
    from then on a bucket queue (one FIFO per rank, ages increasing) leaves in exactly the
    heap's order, in linear time. Where the distances of a watershed cut have a handful of
    values, most voxels lie at the highest rank, after its seeds: the heap sees a fraction.

    Args:
        state: int32 (n, 3) rows ``[state, rank, next]`` of the raveled volume, with a
            one-voxel ``LINE`` frame around it (so neighbour offsets never leave it).
            Seeds have state > 0, other voxels of the mask 0.
        offsets: int64 raveled offsets of the neighbours, in increasing order.
        seed_rows: int64 rows of the seeds, increasing (the order the reference pushes
            them in).
        n_ranks: number of distinct ranks.
        replay_until: replay the heap until the seeds of this rank have left (-1: no
            replay).
        check: bool (n_ranks,), ranks (above ``replay_until``) at which seeds of different
            labels tie: when their seeds leave, count the labels that can still act
            (:func:`_labels_still_claiming`).
        is_seed, bucketed: bool (n,) scratch, all False (allocated by numpy, whose large
            arrays sit on huge pages: a volume allocated here costs several times more in
            page faults).

    Returns:
        The highest checked rank at which seeds of two or more labels could still act (-1:
        none; otherwise the flood stops after the last checked rank, unfinished). Up to
        there the order of tied seeds may change the result, so the heap must be replayed
        up to it; beyond it, seeds of one label acting permute blocks of same-label work,
        which changes no label and no line.
    """
    n = state.shape[0]
    capacity = max(16, 2 * seed_rows.size)
    heap = np.empty((capacity, 2), np.int64)
    items = 0
    for v in seed_rows:
        is_seed[v] = True
        items = _heap_push(heap, items, np.int64(state[v, 1]) << AGE_BITS, v)
    age = 1
    # Every key below this one's: a lower rank, or a seed (age 0) of replay_until.
    last_replayed = np.int64(replay_until) << AGE_BITS
    while items > 0 and heap[0, 0] <= last_replayed:
        key, v, items = _heap_pop(heap, items)
        level = key >> AGE_BITS
        if is_seed[v]:
            is_seed[v] = False
            label = _visit(state, offsets, v)
        elif state[v, 0] < 0 and state[v, 0] != LINE:
            label = _visit(state, offsets, v)
        elif state[v, 0] == LINE:
            # A line leaving again re-queues copies of its queued neighbours, as the
            # reference does; where lines form sheets these copies multiply without bound
            # (the reference never returns), so past a budget they are no longer made.
            if age > MAX_PUSHES_PER_VOXEL * n:
                continue
            label = 0
        else:
            continue  # already labelled by an earlier copy
        for k in range(offsets.size):
            w = v + offsets[k]
            # Not labelled yet (free or queued): the reference pushes a copy either way.
            if -KEPT < state[w, 0] <= 0:
                if state[w, 0] == 0:
                    state[w, 0] = -label
                if items == heap.shape[0]:
                    heap = np.concatenate((heap, np.empty_like(heap)))
                age += 1
                rank = max(np.int64(state[w, 1]), level)
                items = _heap_push(heap, items, (rank << AGE_BITS) | age, w)

    head = np.full(n_ranks, -1, np.int32)
    tail = np.full(n_ranks, -1, np.int32)
    order = np.argsort(heap[:items, 0])
    lowest = n_ranks
    for i in order:
        w = heap[i, 1]
        # Seeds still waiting (age 0: first in their rank), and queued voxels' first copy.
        if is_seed[w] or (state[w, 0] < 0 and state[w, 0] != LINE and not bucketed[w]):
            bucketed[w] = True
            rank = heap[i, 0] >> AGE_BITS
            _append(state, head, tail, rank, w)
            lowest = min(lowest, rank)

    ordered_until = -1
    last_checked = -1
    for rank in range(n_ranks):
        if check[rank]:
            last_checked = rank
    level = lowest
    while level < n_ranks:
        v = head[level]
        if v == -1:
            level += 1
            continue
        if check[level]:
            check[level] = False
            if _labels_still_claiming(state, offsets, is_seed, v) > 1:
                ordered_until = level
            if ordered_until >= 0 and level >= last_checked:
                # The heap must be replayed up to here: this flood's labels are of no use.
                return ordered_until
        is_seed[v] = False
        head[level] = state[v, 2]
        if head[level] == -1:
            tail[level] = -1
        label = _visit(state, offsets, v)
        for k in range(offsets.size):
            w = v + offsets[k]
            if state[w, 0] == 0:
                state[w, 0] = -label
                _append(state, head, tail, max(state[w, 1], level), w)
    return ordered_until


@numba.njit(cache=True)
def flood_state(inside, ranks, seed_voxels, seed_labels, state):
    """The rows of :func:`flood` for a ZYX volume, with its one-voxel ``LINE`` frame.

    Args:
        inside: bool ZYX, the voxels that may be flooded.
        ranks: int32 intensity rank of each ``inside`` voxel, in raster order.
        seed_voxels: int64 raveled (ZYX) indices of the seeds, increasing, all inside.
        seed_labels: int32 label (> 0) of each seed.
        state: int32 ``((nz + 2)·(ny + 2)·(nx + 2), 3)``, filled here with the rows
            ``[state, rank, next]`` of the framed volume (``LINE`` outside ``inside``, the
            seed's label on seeds, 0 elsewhere).

    Returns:
        int64 rows of the seeds.
    """
    nz, ny, nx = inside.shape
    py, px = ny + 2, nx + 2
    i = 0
    row = 0
    for z in range(nz + 2):
        for y in range(py):
            for x in range(px):
                if 0 < z <= nz and 0 < y <= ny and 0 < x <= nx and inside[z - 1, y - 1, x - 1]:
                    state[row, 0] = 0
                    state[row, 1] = ranks[i]
                    i += 1
                else:
                    state[row, 0] = LINE
                    state[row, 1] = 0
                state[row, 2] = 0
                row += 1
    seed_rows = np.empty(seed_voxels.size, np.int64)
    for k in range(seed_voxels.size):
        v = seed_voxels[k]
        z, y, x = v // (ny * nx), (v // nx) % ny, v % nx
        seed_rows[k] = ((z + 1) * py + y + 1) * px + x + 1
        state[seed_rows[k], 0] = seed_labels[k]
    return seed_rows


@numba.njit(cache=True)
def flood_labels(state, out):
    """Fill the int32 ZYX ``out`` with the labels of a flooded :func:`flood_state`:
    watershed lines and voxels outside become 0, seeds that turned out to be lines keep
    their label."""
    nz, ny, nx = out.shape
    py, px = ny + 2, nx + 2
    for z in range(nz):
        for y in range(ny):
            row = ((z + 1) * py + y + 1) * px + 1
            for x in range(nx):
                value = state[row + x, 0]
                if value == LINE:
                    value = 0
                elif value >= KEPT:
                    value -= KEPT
                out[z, y, x] = value


@numba.njit(cache=True)
def label_voxels(voxels, index):
    """Labels of the 26-connected components of a set of voxels, as ``scipy.ndimage.label``
    numbers them (in the raster order of each component's first voxel).

    Args:
        voxels: int64 raveled (ZYX) indices, increasing, without repeats.
        index: int32 ZYX scratch of the volume's shape, all -1; left as it was.

    Returns:
        int32 label (1, 2, ...) of each voxel.
    """
    nz, ny, nx = index.shape
    index = index.reshape(-1)
    for i in range(voxels.size):
        index[voxels[i]] = i
    parent = np.arange(voxels.size)
    for i in range(voxels.size):
        v = voxels[i]
        z, y, x = v // (ny * nx), (v // nx) % ny, v % nx
        # The 13 neighbours earlier in raster order.
        for dz in range(-1, 1):
            for dy in range(-1, 2):
                for dx in range(-1, 2):
                    if dz == 0 and (dy > 0 or (dy == 0 and dx >= 0)):
                        continue
                    zz, yy, xx = z + dz, y + dy, x + dx
                    if zz < 0 or not 0 <= yy < ny or not 0 <= xx < nx:
                        continue
                    j = index[(zz * ny + yy) * nx + xx]
                    if j < 0:
                        continue
                    a, b = i, j
                    while parent[a] != a:
                        parent[a] = parent[parent[a]]
                        a = parent[a]
                    while parent[b] != b:
                        parent[b] = parent[parent[b]]
                        b = parent[b]
                    if a != b:
                        parent[max(a, b)] = min(a, b)
    labels = np.zeros(voxels.size, np.int32)
    count = 0
    for i in range(voxels.size):
        root = i
        while parent[root] != root:
            root = parent[root]
        parent[i] = root
        if labels[root] == 0:
            count += 1
            labels[root] = count
        labels[i] = labels[root]
    for i in range(voxels.size):
        index[voxels[i]] = -1
    return labels


@numba.njit(cache=True)
def dense_ranks(keys, sorted_unique):
    """The index of each of ``keys`` in ``sorted_unique`` (binary search), as int32."""
    out = np.empty(keys.size, np.int32)
    for i in range(keys.size):
        key = keys[i]
        lo = 0
        hi = sorted_unique.size - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_unique[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo
    return out


@numba.njit(cache=True)
def label_local_maxima(image, labels, n_labels, border, radius, threshold):
    """Voxels not below any voxel of their own object in their ``(2·radius + 1)³`` window.

    Voxels within ``border`` of a face of the volume neither count nor compare, like the
    reference's ``peak_local_max(labels=..., exclude_border=border)``.

    Args:
        image: ZYX image.
        labels: int32 ZYX object labels (0: background), at most ``n_labels``.
        n_labels: the largest label.
        border: width of the excluded frame, voxels.
        radius: half-width of the window, voxels.
        threshold: only maxima brighter than this are returned.

    Returns:
        ``(coords, sizes, maxima)``: int64 (k, 3) coordinates of the maxima brighter than
        ``threshold``, in raster order; per label, its voxels outside the frame and its
        maxima at any brightness.
    """
    nz, ny, nx = image.shape
    sizes = np.zeros(n_labels + 1, np.int64)
    maxima = np.zeros(n_labels + 1, np.int64)
    coords = np.empty((1024, 3), np.int64)
    count = 0
    for z in range(border, nz - border):
        for y in range(border, ny - border):
            for x in range(border, nx - border):
                label = labels[z, y, x]
                if label == 0:
                    continue
                sizes[label] += 1
                value = image[z, y, x]
                is_max = True
                for zz in range(max(z - radius, border), min(z + radius + 1, nz - border)):
                    for yy in range(max(y - radius, border), min(y + radius + 1, ny - border)):
                        for xx in range(max(x - radius, border), min(x + radius + 1, nx - border)):
                            if labels[zz, yy, xx] == label and image[zz, yy, xx] > value:
                                is_max = False
                                break
                        if not is_max:
                            break
                    if not is_max:
                        break
                if not is_max:
                    continue
                maxima[label] += 1
                if value > threshold:
                    if count == coords.shape[0]:
                        coords = np.concatenate((coords, np.empty_like(coords)))
                    coords[count, 0] = z
                    coords[count, 1] = y
                    coords[count, 2] = x
                    count += 1
    return coords[:count], sizes, maxima


@numba.njit(cache=True)
def keep_spaced_peaks(coords, shape, reach):
    """Greedy non-maximum suppression: keep a peak unless a kept one is within ``reach``
    voxels along every axis (Chebyshev distance).

    Args:
        coords: int64 (n, 3) peak coordinates, best first.
        shape: the volume shape.
        reach: suppression distance, voxels.

    Returns:
        bool (n,), True for the kept peaks.
    """
    taken = np.zeros((shape[0], shape[1], shape[2]), np.uint8)
    keep = np.zeros(coords.shape[0], np.bool_)
    for i in range(coords.shape[0]):
        z, y, x = coords[i, 0], coords[i, 1], coords[i, 2]
        free = True
        for zz in range(max(z - reach, 0), min(z + reach + 1, shape[0])):
            for yy in range(max(y - reach, 0), min(y + reach + 1, shape[1])):
                for xx in range(max(x - reach, 0), min(x + reach + 1, shape[2])):
                    if taken[zz, yy, xx]:
                        free = False
        if free:
            taken[z, y, x] = 1
            keep[i] = True
    return keep


@numba.njit(cache=True)
def fill_holes_per_slice(mask, min_size, max_size):
    """Fill the 4-connected background components of each z-slice whose size is in
    ``[min_size, max_size]``, both bounds inclusive (as the reference's hole filling).

    One breadth-first walk per component, every pixel visited once.

    Args:
        mask: bool ZYX mask.
        min_size: smallest component filled, pixels (a component of exactly this size is).
        max_size: largest component filled, pixels (a component of exactly this size is).

    Returns:
        bool ZYX, the mask with those components set.
    """
    nz, ny, nx = mask.shape
    out = mask.copy()
    seen = np.zeros((ny, nx), np.bool_)
    queue = np.empty(ny * nx, np.int64)
    for z in range(nz):
        seen[:, :] = mask[z]
        for start in range(ny * nx):
            if seen[start // nx, start % nx]:
                continue
            seen[start // nx, start % nx] = True
            queue[0] = start
            size = 1
            head = 0
            while head < size:
                p = queue[head]
                head += 1
                y, x = p // nx, p % nx
                if y > 0 and not seen[y - 1, x]:
                    seen[y - 1, x] = True
                    queue[size] = p - nx
                    size += 1
                if y < ny - 1 and not seen[y + 1, x]:
                    seen[y + 1, x] = True
                    queue[size] = p + nx
                    size += 1
                if x > 0 and not seen[y, x - 1]:
                    seen[y, x - 1] = True
                    queue[size] = p - 1
                    size += 1
                if x < nx - 1 and not seen[y, x + 1]:
                    seen[y, x + 1] = True
                    queue[size] = p + 1
                    size += 1
            if min_size <= size <= max_size:
                for i in range(size):
                    out[z, queue[i] // nx, queue[i] % nx] = True
    return out


@numba.njit(inline="always")
def _neighbourhood_code(framed, y, x):
    """The 3x3 neighbourhood of ``framed[y, x]`` as 9 bits, raster order (centre = bit 4),
    in a plane with a one-pixel background frame (so no neighbour needs a bounds check)."""
    return (
        framed[y - 1, x - 1]
        | (framed[y - 1, x] << 1)
        | (framed[y - 1, x + 1] << 2)
        | (framed[y, x - 1] << 3)
        | (framed[y, x] << 4)
        | (framed[y, x + 1] << 5)
        | (framed[y + 1, x - 1] << 6)
        | (framed[y + 1, x] << 7)
        | (framed[y + 1, x + 1] << 8)
    )


@numba.njit(inline="always")
def _stable_order(keys):
    """``np.argsort(keys, kind="stable")``, by counting where the keys span a small range
    (the medial axis's keys are small distances): linear instead of a merge sort."""
    if keys.size == 0:
        return np.empty(0, np.int64)
    low, high = keys.min(), keys.max()
    if high - low > 4 * keys.size + 4096:
        return np.argsort(keys, kind="mergesort")
    starts = np.zeros(high - low + 2, np.int64)
    for key in keys:
        starts[key - low + 1] += 1
    for k in range(1, starts.size):
        starts[k] += starts[k - 1]
    order = np.empty(keys.size, np.int64)
    for i in range(keys.size):
        k = keys[i] - low
        order[starts[k]] = i
        starts[k] += 1
    return order


@numba.njit(parallel=True, cache=True)
def medial_axis_per_slice(mask, keep, squared_distance, out):
    """The 2D medial axis of each z-slice of a bool ZYX mask.

    Per slice, the foreground pixels are visited by increasing distance to the background,
    then decreasing number of foreground pixels in their 3x3 neighbourhood (corners last),
    then in raster order; a pixel is removed unless ``keep`` says its current 3x3
    neighbourhood needs it (its removal would change the local 8-connected topology, or
    it is an end point).

    Args:
        mask: bool ZYX mask.
        keep: bool (512,), per 3x3 neighbourhood code, whether the centre must stay.
        squared_distance: int ZYX squared distance of each pixel to the background of
            its slice (:func:`seglight.classic.kernels.distance.squared_edt_per_slice`).
        out: bool ZYX, set here to the medial axes.
    """
    nz, ny, nx = mask.shape
    for z in numba.prange(nz):
        # The slice inside a background frame; pixels beyond the image count as background.
        framed = np.zeros((ny + 2, nx + 2), np.uint16)
        count = 0
        for y in range(ny):
            for x in range(nx):
                if mask[z, y, x]:
                    framed[y + 1, x + 1] = 1
                    count += 1
        keys = np.empty(count, np.int64)
        pixels = np.empty(count, np.int64)
        i = 0
        for y in range(1, ny + 1):
            for x in range(1, nx + 1):
                if framed[y, x]:
                    code = _neighbourhood_code(framed, y, x)
                    filled = 0
                    for b in range(9):
                        filled += (code >> b) & 1
                    # Distance first, then the most background around (corners) last.
                    keys[i] = np.int64(squared_distance[z, y - 1, x - 1]) * 16 + (9 - filled)
                    pixels[i] = y * (nx + 2) + x
                    i += 1
        order = _stable_order(keys)  # raster order breaks ties
        for k in range(count):
            p = pixels[order[k]]
            y, x = p // (nx + 2), p % (nx + 2)
            if not keep[_neighbourhood_code(framed, y, x)]:
                framed[y, x] = 0
        for y in range(ny):
            for x in range(nx):
                out[z, y, x] = framed[y + 1, x + 1] != 0
