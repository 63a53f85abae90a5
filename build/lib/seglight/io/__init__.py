"""Image input/output: ZYX arrays with physical voxel sizes, and the curated triplet format."""

from seglight.io.curated import (
    Sample,
    Triplet,
    find_triplets,
    load_triplet,
    next_index,
    write_triplet,
)
from seglight.io.image import (
    ImageZYX,
    image_layout,
    image_stem,
    is_image_file,
    open_image,
    read_image,
    write_ome_tiff,
)

__all__ = [
    "ImageZYX",
    "Sample",
    "Triplet",
    "find_triplets",
    "image_layout",
    "image_stem",
    "is_image_file",
    "load_triplet",
    "next_index",
    "open_image",
    "read_image",
    "write_ome_tiff",
    "write_triplet",
]
