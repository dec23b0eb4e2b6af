"""A torchvision ResNet as PyTorch users make and export one: the real `torch.onnx.export` file, the same weights as
a Hugging Face ResNetForImageClassification folder, and PyTorch's own outputs on images (the reference).

usage: torch_resnet.py JOB.json, JOB = {
  "out": DIR, "classes": 5, "depth": 50, "size": 64, "seed": 1,
  "head": "linear" | "dropout-linear" | "softmax",      # fc = Linear | Sequential(Dropout, Linear) | logits → softmax
  "fold_bn": true, "opset": 14,                           # BN folded into Conv by the exporter (its default) or kept
  "prune": null | 0.5,                                    # keep this share of every block's inner channels (multiples of 8)
  "bn_images": DIR | null,                                # images whose batch statistics become the BN running stats
  "train": null | {"data": DIR, "steps": 300, "lr": 0.001, "batch": 32},  # train on a folder-per-class set (AdamW, one cycle)
  "init": null | FILE,                                   # start the trunk from one of our fp32 exports (Keras names, BN folded)
  "predict": [paths] , "recipe": "torchvision" | "timm"   # PyTorch's outputs on these, preprocessed by the recipe
}
Writes DIR/model.onnx, DIR/hf/{config.json, model.safetensors, preprocessor_config.json}, DIR/labels.txt,
DIR/predictions.json ({"files": [...], "outputs": [[...]...], "top1": [...]}), DIR/state.json (what was made).
"""
import json
import math
import os
import struct
import sys

import torch
import torchvision
from PIL import Image
from torchvision import transforms

job = json.load(open(sys.argv[1]))
out = job["out"]
os.makedirs(out, exist_ok=True)
torch.manual_seed(job.get("seed", 1))
classes = job.get("classes", 5)
size = job.get("size", 64)
recipe = job.get("recipe", "torchvision")

# Each residual branch starts as an identity (its last BN's γ = 0): a deep ResNet then trains from scratch (Goyal et al. 2017).
model = {50: torchvision.models.resnet50, 101: torchvision.models.resnet101, 152: torchvision.models.resnet152}[job.get("depth", 50)](num_classes=classes, zero_init_residual=bool(job.get("train")) and not job.get("init"))

mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

if job.get("prune"):
    # What a channel-pruning tool leaves: every bottleneck's conv1/conv2 outputs cut to a multiple of 8.
    keep = job["prune"]
    for layer in [model.layer1, model.layer2, model.layer3, model.layer4]:
        for block in layer:
            w1 = max(8, int(block.conv1.out_channels * keep) // 8 * 8)
            w2 = max(8, int(block.conv2.out_channels * keep) // 8 * 8) - 8  # unequal widths, as tools leave them
            block.conv1 = torch.nn.Conv2d(block.conv1.in_channels, w1, 1, bias=False)
            block.bn1 = torch.nn.BatchNorm2d(w1)
            block.conv2 = torch.nn.Conv2d(w1, w2, 3, stride=block.conv2.stride, padding=1, bias=False)
            block.bn2 = torch.nn.BatchNorm2d(w2)
            block.conv3 = torch.nn.Conv2d(w2, block.conv3.out_channels, 1, bias=False)

if job.get("init"):
    # Our export names each Conv by its Keras layer and folds BN into it: in torchvision's modules that is the conv's
    # weight and a BN holding the bias (γ 1, mean 0, variance 1 − ε). The head stays new: fine-tuning starts here.
    import onnx
    from onnx import numpy_helper

    source = onnx.load(job["init"])
    values = {t.name: numpy_helper.to_array(t) for t in source.graph.initializer}
    loaded = 0
    for n in source.graph.node:
        if n.op_type != "Conv":
            continue
        if n.name == "conv1_conv":
            conv, bn = model.conv1, model.bn1
        else:
            stage, block, k = [int(v) for v in __import__("re").match(r"conv(\d)_block(\d+)_(\d)_conv", n.name).groups()]
            unit = getattr(model, f"layer{stage - 1}")[block - 1]
            conv, bn = (unit.downsample[0], unit.downsample[1]) if k == 0 else (getattr(unit, f"conv{k}"), getattr(unit, f"bn{k}"))
        weight = torch.from_numpy(values[n.input[1]].copy())
        bias = torch.from_numpy(values[n.input[2]].copy())
        if n.name == "conv1_conv":
            # Our stem reads Keras' caffe input (BGR, means subtracted, 0..255); torchvision's reads RGB normalised
            # by ImageNet's mean and std: fold that change into the stem so it sees the same values.
            caffe_mean = torch.tensor([103.939, 116.779, 123.68])  # B, G, R
            rgb = weight.flip(1)  # BGR input planes → RGB
            bias = bias + (rgb * (255 * torch.tensor(mean) - caffe_mean.flip(0)).view(1, 3, 1, 1)).sum((1, 2, 3))
            weight = rgb * (255 * torch.tensor(std)).view(1, 3, 1, 1)
        with torch.no_grad():
            conv.weight.copy_(weight)
            bn.weight.fill_(1)
            bn.bias.copy_(bias)
            bn.running_mean.zero_()
            bn.running_var.fill_(1 - bn.eps)
        loaded += 1
    print(f"init: {loaded} convolutions from {job['init']}", file=sys.stderr)

if job.get("head") == "dropout-linear":
    model.fc = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(model.fc.in_features, classes))

interpolation, crop_pct = (transforms.InterpolationMode.BICUBIC, 0.95) if recipe == "timm" else (transforms.InterpolationMode.BILINEAR, 0.875)
evaluate = transforms.Compose([transforms.Resize(math.floor(size / crop_pct), interpolation=interpolation), transforms.CenterCrop(size), transforms.ToTensor(), transforms.Normalize(mean, std)])


def images_in(folder):
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if f.lower().endswith((".png", ".jpg", ".jpeg")))


def load(path, t=evaluate):
    return t(Image.open(path).convert("RGB"))


if job.get("train"):
    spec = job["train"]
    dataset = torchvision.datasets.ImageFolder(spec["data"], transform=transforms.Compose([transforms.RandomResizedCrop(size, scale=(0.6, 1.0)), transforms.RandomHorizontalFlip(), transforms.ToTensor(), transforms.Normalize(mean, std)]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=spec.get("batch", 32), shuffle=True, drop_last=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=spec.get("lr", 1e-3), weight_decay=1e-4)
    steps = spec.get("steps", 300)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=spec.get("lr", 1e-3), total_steps=steps, pct_start=0.15)
    model.train()
    step = 0
    while step < steps:
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step % 50 == 0:
                print(f"step {step}: loss {loss.item():.3f}", file=sys.stderr, flush=True)
            if step >= steps:
                break
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(dataset.classes) + "\n")
else:
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(f"class-{i}" for i in range(classes)) + "\n")
    # Random weights normalise nothing: batch statistics of real images make every layer's output non-degenerate.
    bn_images = images_in(job["bn_images"])[:64] if job.get("bn_images") else []
    if bn_images:
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None
        model.train()
        with torch.no_grad():
            model(torch.stack([load(p) for p in bn_images]))
    # Non-trivial affine BN parameters and a classifier that separates: a mapping mistake changes the outputs.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        fc = model.fc[-1] if isinstance(model.fc, torch.nn.Sequential) else model.fc
        fc.weight.mul_(20)

model.eval()
wrapped = torch.nn.Sequential(model, torch.nn.Softmax(dim=1)) if job.get("head") == "softmax" else model
export_args = dict(input_names=["input"], output_names=["probabilities" if job.get("head") == "softmax" else "logits"], dynamic_axes={"input": {0: "batch"}}, opset_version=job.get("opset", 14))
if not job.get("fold_bn", True):
    export_args.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
torch.onnx.export(wrapped, torch.randn(1, 3, size, size), os.path.join(out, "model.onnx"), **export_args)

# The same weights as transformers lays them out (models/resnet: embedder, encoder.stages.S.layers.L.{layer,shortcut}, classifier.1).
hf = {}
def put_conv_bn(prefix, conv, bn):
    hf[f"{prefix}.convolution.weight"] = conv.weight
    for ours, theirs in [("weight", "weight"), ("bias", "bias"), ("running_mean", "running_mean"), ("running_var", "running_var")]:
        hf[f"{prefix}.normalization.{ours}"] = getattr(bn, theirs)
put_conv_bn("resnet.embedder.embedder", model.conv1, model.bn1)
for s, layer in enumerate([model.layer1, model.layer2, model.layer3, model.layer4]):
    for l, block in enumerate(layer):
        base = f"resnet.encoder.stages.{s}.layers.{l}"
        if block.downsample is not None:
            put_conv_bn(f"{base}.shortcut", block.downsample[0], block.downsample[1])
        for k, (conv, bn) in enumerate([(block.conv1, block.bn1), (block.conv2, block.bn2), (block.conv3, block.bn3)]):
            put_conv_bn(f"{base}.layer.{k}", conv, bn)
fc = model.fc[-1] if isinstance(model.fc, torch.nn.Sequential) else model.fc
hf["classifier.1.weight"], hf["classifier.1.bias"] = fc.weight, fc.bias
os.makedirs(os.path.join(out, "hf"), exist_ok=True)
# safetensors: u64 header length, JSON header {name: {dtype, shape, data_offsets}}, packed little-endian data.
header, blobs, offset = {}, [], 0
for name, t in hf.items():
    data = t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
header["__metadata__"] = {"format": "pt"}
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(os.path.join(out, "hf", "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
labels = open(os.path.join(out, "labels.txt")).read().split("\n")[:classes]
json.dump({
    "architectures": ["ResNetForImageClassification"], "model_type": "resnet", "layer_type": "bottleneck", "hidden_act": "relu",
    "depths": [len(l) for l in [model.layer1, model.layer2, model.layer3, model.layer4]], "hidden_sizes": [256, 512, 1024, 2048],
    "embedding_size": 64, "num_channels": 3, "downsample_in_first_stage": False, "downsample_in_bottleneck": False,
    "id2label": {str(i): l for i, l in enumerate(labels)}, "label2id": {l: i for i, l in enumerate(labels)}, "torch_dtype": "float32",
}, open(os.path.join(out, "hf", "config.json"), "w"), indent=2)
json.dump({
    "image_processor_type": "ConvNextImageProcessor", "crop_pct": crop_pct, "do_normalize": True, "do_rescale": True, "do_resize": True,
    "image_mean": mean, "image_std": std, "resample": 3 if recipe == "timm" else 2, "rescale_factor": 1 / 255, "size": {"shortest_edge": size},
}, open(os.path.join(out, "hf", "preprocessor_config.json"), "w"), indent=2)

files = job.get("predict") or []
outputs = []
with torch.no_grad():
    for i in range(0, len(files), 32):
        outputs += wrapped(torch.stack([load(p) for p in files[i:i + 32]])).tolist()
json.dump({"files": files, "outputs": outputs, "top1": [max(range(len(o)), key=o.__getitem__) for o in outputs]}, open(os.path.join(out, "predictions.json"), "w"))
json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "classes": classes, "size": size, "recipe": recipe}, open(os.path.join(out, "state.json"), "w"))
