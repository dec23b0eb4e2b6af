#!/usr/bin/env python3
"""A third, independent renderer for the shapes task: Pillow's ImageDraw (aliased polygons, as a quick
Python check script would draw them), with its own conventions: equilateral triangles, 5-point stars with an
inner radius of 0.38-0.5, plus-sign crosses of arm width 0.25-0.45, squares, circles; random fill colour,
size 30-75 % of the side, position and rotation; plain, linear-gradient or Gaussian-noise backgrounds;
image sides 64-256 px; half JPEG (quality 75-95), half PNG; images.csv lists each image's size (shape
diameter / side), background and luminance gap. Nothing here is shared with the project's
renderers. Usage: bench/experiments/default-model/pil-shapes.py OUT_DIR [PER_CLASS] [SEED]  (Debian: python3-pil)."""
import math
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ["circle", "square", "triangle", "star", "cross"]


def rotate(points, angle, cx, cy):
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in points]


def outline(label, r, rng):
    if label == "square":
        h = r / math.sqrt(2)
        return [(-h, -h), (h, -h), (h, h), (-h, h)]
    if label == "triangle":
        return [(r * math.cos(a), r * math.sin(a)) for a in (-math.pi / 2 + k * 2 * math.pi / 3 for k in range(3))]
    if label == "star":
        inner = rng.uniform(0.38, 0.5)
        return [((r if k % 2 == 0 else r * inner) * math.cos(-math.pi / 2 + k * math.pi / 5),
                 (r if k % 2 == 0 else r * inner) * math.sin(-math.pi / 2 + k * math.pi / 5)) for k in range(10)]
    if label == "cross":
        t = r * rng.uniform(0.25, 0.45)
        return [(-t, -r), (t, -r), (t, -t), (r, -t), (r, t), (t, t), (t, r), (-t, r), (-t, t), (-r, t), (-r, -t), (-t, -t)]
    raise ValueError(label)


def background(side, rng):
    kind = rng.choice(["plain", "gradient", "noise"])
    a = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float32)
    if kind == "plain":
        img = np.broadcast_to(a, (side, side, 3)).copy()
    elif kind == "gradient":
        b = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float32)
        theta = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:side, 0:side] / (side - 1)
        t = (xx * math.cos(theta) + yy * math.sin(theta))
        t = (t - t.min()) / (t.max() - t.min() + 1e-9)
        img = a + (b - a) * t[..., None]
    else:
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(10, 40), (side, side, 3))
        img = a + noise
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)), tuple(int(v) for v in a), kind


def draw(label, rng):
    side = rng.randrange(64, 257)
    img, base, kind = background(side, rng)
    while True:
        fill = tuple(rng.randrange(256) for _ in range(3))
        if sum(abs(f - b) for f, b in zip(fill, base)) > 60:  # visible against the background
            break
    r = rng.uniform(0.30, 0.75) * side / 2
    cx, cy = rng.uniform(r, side - r), rng.uniform(r, side - r)
    d = ImageDraw.Draw(img)
    if label == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        d.polygon(rotate(outline(label, r, rng), rng.uniform(0, 2 * math.pi), cx, cy), fill=fill)
    lum = lambda c: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
    return img, {"side": side, "size": round(2 * r / side, 3), "background": kind, "gap": round(abs(lum(fill) - lum(base)))}


def main():
    out = sys.argv[1]
    per_class = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    rows = ["file,label,side,size,background,gap"]
    for label in CLASSES:
        os.makedirs(os.path.join(out, label), exist_ok=True)
        for i in range(per_class):
            img, meta = draw(label, rng)
            file = f"{label}/pil-{i:04d}.{'jpg' if i % 2 == 0 else 'png'}"
            if i % 2 == 0:
                img.save(os.path.join(out, file), quality=rng.randrange(75, 96))
            else:
                img.save(os.path.join(out, file))
            rows.append(f"{file},{label},{meta['side']},{meta['size']},{meta['background']},{meta['gap']}")
    # Beside the class folders, not in them: what each image is, for error analysis.
    with open(os.path.join(out, "images.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"wrote {per_class * len(CLASSES)} images to {out}")


if __name__ == "__main__":
    main()
