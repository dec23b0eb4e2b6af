"""The training recipes' own eval transforms, the reference for src/core/preprocess.ts.

usage: recipe_transforms.py JOBS.json  where JOBS is [{"input": "x.ppm", "recipe": "torchvision" | "timm" |
  "hf-convnext" | "keras", "size": 224, "crop_pct": 0.875, "interpolation": "bilinear" | "bicubic" | "nearest",
  "out": "y.f32"}, ...]. Each result: float32 [3, size, size] (the model's input), raw, little-endian.
- torchvision / timm: transforms.Resize(floor(size / crop_pct), interpolation) → CenterCrop(size) → ToTensor →
  Normalize(ImageNet) (timm/data/transforms_factory.py transforms_imagenet_eval, crop_mode "center").
- hf-convnext: ConvNextImageProcessor for shortest_edge < 384: the shortest edge to int(size / crop_pct) with
  PIL, centre crop with floor offsets, rescale 1/255, normalise (transformers convnext/image_processing_convnext.py).
- keras: load_img(target_size, interpolation) → img_to_array → preprocess_input "caffe" (BGR, mean subtracted).
"""
import json
import math
import sys

import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def torchvision_eval(image, size, crop_pct, interpolation):
    from torchvision import transforms

    resample = {"bilinear": transforms.InterpolationMode.BILINEAR, "bicubic": transforms.InterpolationMode.BICUBIC, "nearest": transforms.InterpolationMode.NEAREST}[interpolation]
    t = transforms.Compose([
        transforms.Resize(math.floor(size / crop_pct), interpolation=resample),
        transforms.CenterCrop(size),
        transforms.ToTensor(),
        transforms.Normalize(MEAN.tolist(), STD.tolist()),
    ])
    return t(image).numpy()


def hf_convnext(image, size, crop_pct, interpolation):
    short = int(size / crop_pct)
    w, h = image.size
    if w <= h:
        new = (short, int(short * h / w))
    else:
        new = (int(short * w / h), short)
    image = image.resize(new, FILTERS[interpolation])
    top = (new[1] - size) // 2
    left = (new[0] - size) // 2
    x = np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.float32) * np.float32(1 / 255)
    return ((x - MEAN) / STD).transpose(2, 0, 1)


def keras_caffe(image, size, crop_pct, interpolation):
    x = np.asarray(image.resize((size, size), FILTERS[interpolation]), dtype=np.float32)
    x = x[..., ::-1] - np.array([103.939, 116.779, 123.68], dtype=np.float32)
    return x.transpose(2, 0, 1)


RECIPES = {"torchvision": torchvision_eval, "timm": torchvision_eval, "hf-convnext": hf_convnext, "keras": keras_caffe}

for job in json.load(open(sys.argv[1])):
    image = Image.open(job["input"]).convert("RGB")
    x = RECIPES[job["recipe"]](image, job["size"], job.get("crop_pct", 1.0), job["interpolation"])
    np.ascontiguousarray(x, dtype="<f4").tofile(job["out"])
