"""Pillow's own resize, the reference for src/core/pil-resize.ts.

usage: pil_resize.py JOBS.json   where JOBS is [{"input": "x.ppm", "filter": "bilinear",
  "size": [w, h], "box": [x0, y0, x1, y1] | null, "crop": [l, t, r, b] | null, "out": "y.rgb"}, ...]
Writes each result as raw RGB bytes to its "out"; prints Pillow's version.
"""
import json
import sys

from PIL import Image

FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}

for job in json.load(open(sys.argv[1])):
    image = Image.open(job["input"]).convert("RGB")
    box = tuple(job["box"]) if job.get("box") else None
    resized = image.resize(tuple(job["size"]), FILTERS[job["filter"]], box=box)
    if job.get("crop"):
        resized = resized.crop(tuple(job["crop"]))
    open(job["out"], "wb").write(resized.tobytes())
print(Image.__version__ if hasattr(Image, "__version__") else __import__("PIL").__version__)
