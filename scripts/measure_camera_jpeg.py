"""Measure what a 1280 x 720 camera frame weighs as a JPEG, from real photographs.

scikit-learn ships two real photographs (china.jpg, flower.jpg; 640 x 427; CC BY 2.0, see
sklearn/datasets/images/README.txt). Each is encoded at JPEG quality 75 and 85 with Pillow;
bytes per pixel times 1280 x 720 gives the size of a 720p frame of similar content. The case
study (bench/conversations.py, VIEW_JPEG_BYTES) uses the mean at quality 75.

    python scripts/measure_camera_jpeg.py
"""

from __future__ import annotations

import io

from PIL import Image
from sklearn.datasets import load_sample_image

FRAME_PIXELS = 1280 * 720


def main() -> None:
    """Print the measured bytes per pixel and the 720p estimate for each photo and quality."""
    for quality in (75, 85):
        estimates = []
        for name in ("china.jpg", "flower.jpg"):
            image = Image.fromarray(load_sample_image(name))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality)
            per_pixel = len(buffer.getvalue()) / (image.size[0] * image.size[1])
            estimates.append(per_pixel * FRAME_PIXELS)
            print(f"{name} q{quality}: {per_pixel:.3f} bytes/pixel -> {per_pixel * FRAME_PIXELS / 1000:.0f} kB at 1280x720")
        print(f"mean at quality {quality}: {sum(estimates) / len(estimates) / 1000:.0f} kB")


if __name__ == "__main__":
    main()
