#!/usr/bin/env python3
"""mpc training binaries against PyTorch eager on the same exported models.

    train_vs_pytorch.py --mpc-opt BIN [--epochs 20] [--steps 200]

1. Convergence: the bundled digits MLP (examples/mlp_digits) trained by
   mpc in fp32, bf16 and fp16 and by PyTorch in fp32 from the same initial
   weights (the ONNX initializers), same optimizer (AdamW, lr 0.01, weight
   decay 0.01), batch 32, same epochs; validation accuracy of each, and the
   largest gap to PyTorch (goal: within 2 points).
2. Step time: training steps per second of mpc (fp32, bf16) and PyTorch
   (fp32, torch.autocast bf16) on the digits MLP, a wider MLP
   (512-1024-1024-10, batch 128, synthetic data), the Fashion-MNIST CNN
   example (examples/cnn_fashion_mnist, batch 64, the real images when
   dataset-fashion-mnist is installed), torchvision's ResNet-10 and
   MobileNetV3-Small as test/python/train_families.py adapts them (batch
   32, the same images) and the text classifier of
   test/python/train_families.py (embeddings + 2-layer TransformerEncoder,
   batch 32), measured in one run and reported as ratios (goals: mpc fp32
   no slower than PyTorch fp32 -- for the CNN too; mpc bf16 at least 4x
   PyTorch's CPU autocast bf16).

Needs Debian's python3-torch; without it the script says so and exits 0.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "mlp_digits")

try:
    import torch
except ImportError:
    torch = None


def initializers(path):
    model = onnx.load(path)
    return {t.name: numpy_helper.to_array(t).copy()
            for t in model.graph.initializer}


def wide_mlp(path, rng):
    """512-1024-1024-10 MLP, Gemm + Relu, like torch's export."""
    sizes = [512, 1024, 1024, 10]
    inits, nodes, prev = [], [], "x"
    for i in range(3):
        w = rng.normal(0, np.sqrt(2 / sizes[i]), (sizes[i + 1], sizes[i]))
        inits += [numpy_helper.from_array(w.astype(np.float32), "fc%d.weight" % i),
                  numpy_helper.from_array(np.zeros(sizes[i + 1], np.float32),
                                          "fc%d.bias" % i)]
        out = "logits" if i == 2 else "h%d" % i
        nodes.append(helper.make_node("Gemm", [prev, "fc%d.weight" % i,
                                               "fc%d.bias" % i], [out],
                                      transB=1))
        if i < 2:
            nodes.append(helper.make_node("Relu", [out], ["a%d" % i]))
            prev = "a%d" % i
    graph = helper.make_graph(
        nodes, "wide_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 512])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       ["batch", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def torch_mlp(weights, layers):
    """The ONNX MLP as torch modules with the same initial weights."""
    modules = [torch.nn.Flatten()]
    for i, (w, b) in enumerate(layers):
        linear = torch.nn.Linear(weights[w].shape[1], weights[w].shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights[w]))
            linear.bias.copy_(torch.from_numpy(weights[b]))
        modules.append(linear)
        if i + 1 < len(layers):
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def torch_train(model, x, y, epochs, batch, lr, seed, autocast=False,
                steps=None):
    """AdamW training; returns (steps/s over the timed steps)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    per_epoch = len(x) // batch
    total = steps if steps else epochs * per_epoch
    done, start = 0, None
    while done < total:
        order = torch.randperm(len(x), generator=g)
        for i in range(per_epoch):
            if done == total:
                break
            if done == min(10, total // 10):
                start = time.perf_counter()  # after warm-up
                timed_from = done
            idx = order[i * batch:(i + 1) * batch]
            opt.zero_grad(set_to_none=True)
            if autocast:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    loss = loss_fn(model(xs[idx]), ys[idx])
            else:
                loss = loss_fn(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
            done += 1
    return (done - timed_from) / (time.perf_counter() - start)


def model_family_cases(work, rng):
    """The Fashion-MNIST CNN example, the ResNet and MobileNet families and
    the text classifier: exported by
    mpc.from_torch in training mode, each PyTorch run from the same
    seeded initialisation."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    sys.path.insert(0, os.path.join(ROOT, "examples", "cnn_fashion_mnist"))
    sys.path.insert(0, os.path.join(ROOT, "test", "python"))
    import mpc
    import make_model as cnn_example
    import train_families

    def seeded(build):
        def make():
            torch.manual_seed(0)
            return build()
        return make

    cases = []
    cnn = os.path.join(work, "cnn_fashion_mnist.onnx")
    mpc.from_torch(seeded(cnn_example.model)(), torch.zeros(2, 1, 28, 28), cnn,
                   input_names=["image"], output_names=["logits"])
    fashion = "/usr/share/datasets/fashion-mnist"
    if os.path.isdir(fashion):
        (cx, cy), _ = train_families.fashion_mnist(fashion, 4096, 1)
    else:
        cx = rng.normal(size=(4096, 1, 28, 28)).astype(np.float32)
        cy = rng.integers(0, 10, 4096).astype(np.int64)
    np.save(os.path.join(work, "cx.npy"), cx)
    np.save(os.path.join(work, "cy.npy"), cy)
    cases.append(("Fashion-MNIST CNN, b64", cnn, seeded(cnn_example.model),
                  cx, cy, os.path.join(work, "cx.npy"),
                  os.path.join(work, "cy.npy"), 64))
    for name, build in (("ResNet-10, b32", train_families.resnet10),
                        ("MobileNetV3-Small, b32",
                         train_families.mobilenet_v3_small)):
        path = os.path.join(work, build.__name__ + ".onnx")
        mpc.from_torch(seeded(build)(), torch.zeros(2, 1, 28, 28), path,
                       input_names=["image"], output_names=["logits"])
        cases.append((name, path, seeded(build), cx, cy,
                      os.path.join(work, "cx.npy"),
                      os.path.join(work, "cy.npy"), 32))
    text = os.path.join(work, "text.onnx")
    mpc.from_torch(seeded(train_families.TextClassifier)(),
                   torch.zeros(2, 16, dtype=torch.int64), text,
                   input_names=["ids"], output_names=["logits"])
    tx, ty = train_families.token_task(4096, 0)
    np.save(os.path.join(work, "tx.npy"), tx)
    np.save(os.path.join(work, "ty.npy"), ty)
    cases.append(("text transformer, b32", text,
                  seeded(train_families.TextClassifier), tx, ty,
                  os.path.join(work, "tx.npy"), os.path.join(work, "ty.npy"),
                  32))
    return cases


def torch_accuracy(model, x, y):
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def mpc_train(mpc_opt, model, precision, work, x_path, y_path, batch, flags,
              val=None):
    exe = os.path.join(work, "train_%s_%s" % (os.path.basename(model)[:-5],
                                              precision))
    if not os.path.exists(exe):
        subprocess.run([mpc_opt, model, "--precision=" + precision,
                        "--batch-size=%d" % batch, "-o", exe], check=True)
    metrics = os.path.join(work, "metrics.json")
    args = [exe, "--inputs", x_path, "--labels", y_path, "--seed", "1",
            "--log-every", "1000000", "--metrics-json", metrics, *flags]
    if val:
        args += ["--val-inputs", val[0], "--val-labels", val[1]]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    with open(metrics) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mpc-opt", required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=200,
                        help="timed steps per configuration")
    args = parser.parse_args()
    if torch is None:
        print("python3-torch is not installed: nothing to compare against")
        return 0
    torch.set_num_threads(os.cpu_count())
    data = os.path.join(EXAMPLE, "data")
    x_train = np.load(os.path.join(data, "train_images.npy"))
    y_train = np.load(os.path.join(data, "train_labels.npy"))
    x_val = np.load(os.path.join(data, "val_images.npy"))
    y_val = np.load(os.path.join(data, "val_labels.npy"))
    digits = os.path.join(EXAMPLE, "mlp_digits.onnx")
    digits_layers = [("fc1.weight", "fc1.bias"), ("fc2.weight", "fc2.bias")]
    paths = [os.path.join(data, n + ".npy") for n in
             ("train_images", "train_labels", "val_images", "val_labels")]

    with tempfile.TemporaryDirectory() as work:
        print("== convergence: digits MLP, AdamW lr 0.01, batch 32, %d epochs"
              % args.epochs)
        accuracy = {}
        for precision in ("fp32", "bf16", "fp16"):
            m = mpc_train(args.mpc_opt, digits, precision, work, paths[0],
                          paths[1], 32, ["--epochs", str(args.epochs),
                                         "--lr", "0.01"],
                          val=(paths[2], paths[3]))
            accuracy["mpc " + precision] = m["val_accuracy"]
        torch.manual_seed(0)
        model = torch_mlp(initializers(digits), digits_layers)
        torch_train(model, x_train, y_train, args.epochs, 32, 0.01, seed=1)
        accuracy["pytorch fp32"] = torch_accuracy(model, x_val, y_val)
        for name, acc in accuracy.items():
            print("%-14s val accuracy %6.2f%%" % (name, 100 * acc))
        gap = max(abs(a - accuracy["pytorch fp32"]) for a in accuracy.values())
        print("largest gap to pytorch: %.2f points (goal <= 2)" % (100 * gap))

        print("\n== training steps/s (%d threads, %d timed steps)"
              % (torch.get_num_threads(), args.steps))
        rng = np.random.default_rng(0)
        wide = os.path.join(work, "wide_mlp.onnx")
        wide_mlp(wide, rng)
        wx = rng.normal(size=(4096, 512)).astype(np.float32)
        wy = rng.integers(0, 10, 4096).astype(np.int64)
        np.save(os.path.join(work, "wx.npy"), wx)
        np.save(os.path.join(work, "wy.npy"), wy)
        wide_layers = [("fc%d.weight" % i, "fc%d.bias" % i) for i in range(3)]
        cases = [
            ("digits MLP, batch 32", digits,
             lambda: torch_mlp(initializers(digits), digits_layers), x_train,
             y_train, paths[0], paths[1], 32),
            ("wide MLP, batch 128", wide,
             lambda: torch_mlp(initializers(wide), wide_layers), wx,
             wy, os.path.join(work, "wx.npy"), os.path.join(work, "wy.npy"),
             128),
        ]
        cases += model_family_cases(work, rng)
        print("%-24s %10s %10s %10s %10s %9s %9s" % (
            "model", "torch fp32", "torch bf16", "mpc fp32", "mpc bf16",
            "fp32 x", "bf16 x"))
        for name, path, factory, x, y, xp, yp, batch in cases:
            rates = {}
            for autocast in (False, True):
                model = factory()
                rates["torch bf16" if autocast else "torch fp32"] = torch_train(
                    model, x, y, 0, batch, 1e-3, seed=1, autocast=autocast,
                    steps=args.steps)
            for precision in ("fp32", "bf16"):
                m = mpc_train(args.mpc_opt, path, precision, work, xp, yp,
                              batch, ["--steps", str(args.steps)])
                rates["mpc " + precision] = m["samples_per_second"] / batch
            print("%-24s %10.1f %10.1f %10.1f %10.1f %8.2fx %8.2fx" % (
                name, rates["torch fp32"], rates["torch bf16"],
                rates["mpc fp32"], rates["mpc bf16"],
                rates["mpc fp32"] / rates["torch fp32"],
                rates["mpc bf16"] / rates["torch bf16"]))
        print("(x: mpc steps/s over PyTorch's in the same precision; goals: "
              "fp32 >= 1, bf16 >= 4)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
