#!/usr/bin/env python3
"""The precision report page in a real browser (Debian's headless
Chromium).

    report_browser.py MPC_OPT CHROMIUM WORK

For the transformer encoder (drawn op by op) and two 10,051-op models
(one with name scopes, collapsed into blocks; one without, shown as a
table) mpc-opt writes the JSON report and the page; Chromium loads the
page and dumps the DOM after scripts ran, and takes a screenshot. Checks:
the SVG graph is there, it has one node per op of the JSON report (or one
block per scope), cast edges match the casts in the JSON, the page says
when it collapsed or fell back to the table, the table has a row per op,
and the screenshot is a PNG of the window's size showing the precision
colours.
"""
import json
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

results = []

BF16_FILL = (0xF5, 0xA0, 0x53)
F32_FILL = (0x7A, 0xA6, 0xD6)
WINDOW = (1200, 800)


def check(name, ok, detail=""):
    results.append(ok)
    print("%s %s%s" % (name, "ok" if ok else "FAIL",
                       " (" + detail + ")" if detail else ""))


def chromium(binary, work, url, *args):
    profile = work / "chromium-profile"
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run",
               "--disable-background-networking",
               "--disable-component-update", "--disable-sync",
               "--user-data-dir=%s" % profile,
               "--window-size=%d,%d" % WINDOW, *args, url]
    return subprocess.run(command, capture_output=True, text=True,
                          timeout=180)


def decode_png(data):
    """(width, height, HxWx3 uint8) of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat = 8, b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(
                ">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8)
    stride = width * channels
    rows = raw.reshape(height, stride + 1)
    image = np.zeros((height, stride), np.int32)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            out = line
        elif kind == 2:
            out = (line + previous) & 0xFF
        elif kind == 1:
            per = line.reshape(width, channels)
            out = (np.cumsum(per, axis=0) & 0xFF).reshape(-1)
        else:  # Average, Paeth: sequential per byte
            out = np.zeros(stride, np.int32)
            for i in range(stride):
                a = out[i - channels] if i >= channels else 0
                b = previous[i]
                if kind == 3:
                    out[i] = (line[i] + (a + b) // 2) & 0xFF
                else:
                    c = previous[i - channels] if i >= channels else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc
                                                            else c)
                    out[i] = (line[i] + pred) & 0xFF
        image[y] = out
        previous = out
    pixels = image.reshape(height, width, channels)[:, :, :3]
    return width, height, pixels.astype(np.uint8)


def has_colour(pixels, rgb, tolerance=3):
    close = np.abs(pixels.astype(np.int32) - np.array(rgb)).max(axis=2)
    return int((close <= tolerance).sum())


def big_model(path, scoped, blocks=50, per_block=67):
    """blocks x per_block x (MatMul, Add, Tanh) + Softmax = 10,051 ops."""
    nodes, inits, x = [], [], "x"
    for b in range(blocks):
        for j in range(per_block):
            k = "%d_%d" % (b, j)
            inits += [numpy_helper.from_array(np.eye(8, dtype=np.float32),
                                              "w" + k),
                      numpy_helper.from_array(np.zeros(8, np.float32),
                                              "b" + k)]
            for op, inputs in (("MatMul", [x, "w" + k]),
                               ("Add", ["m" + k, "b" + k]),
                               ("Tanh", ["a" + k])):
                name = ("/layers.%d/sub.%d/%s" % (b, j, op) if scoped
                        else "n%d" % len(nodes))
                out = {"MatMul": "m", "Add": "a", "Tanh": "t"}[op] + k
                nodes.append(helper.make_node(op, inputs, [out], name=name))
            x = "t" + k
    nodes.append(helper.make_node("Softmax", [x], ["y"], name="/head/Softmax"))
    graph = helper.make_graph(
        nodes, "big_scoped" if scoped else "big_flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])], inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return len(nodes)


def report(mpc_opt, model, work, stem):
    json_path, html_path = work / (stem + ".json"), work / (stem + ".html")
    for out in (json_path, html_path):
        subprocess.run([mpc_opt, model, "--precision=bf16",
                        "--precision-report=%s" % out, "-o", "/dev/null"],
                       check=True)
    return json.loads(json_path.read_text()), html_path


def load(binary, work, html, stem):
    dom = chromium(binary, work, html.as_uri(), "--dump-dom")
    shot = work / (stem + ".png")
    taken = chromium(binary, work, html.as_uri(), "--screenshot=%s" % shot)
    return dom.stdout, shot, taken


def main():
    mpc_opt, binary, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    src = Path(__file__).resolve().parents[2]

    # The transformer encoder, op by op.
    data, html = report(mpc_opt, src / "test/Target/ONNX/Inputs/"
                        "transformer_encoder.onnx", work, "transformer")
    dom, shot, _ = load(binary, work, html, "transformer")
    ops = len(data["nodes"])
    drawn = set(re.findall(r'<g id="op_(\d+)" class="node', dom))
    check("transformer: the page has the SVG graph",
          '<div id="graph" data-mode="graph"' in dom and "<svg" in dom)
    check("transformer: one graph node per op of the JSON report",
          drawn == {str(i) for i in range(ops)},
          "%d drawn, %d in the JSON" % (len(drawn), ops))
    casts = sum("cast_from" in e for n in data["nodes"] for e in n["inputs"])
    edges = len(re.findall(r'<g id="cast_\d+" class="edge cast"', dom))
    check("transformer: one red edge per cast in the JSON report",
          edges == casts > 0, "%d edges, %d casts" % (edges, casts))
    rows = len(re.findall(r'<tr id="row_\d+">', dom))
    check("transformer: a table row per op", rows == ops)
    deny = [n["id"] for n in data["nodes"] if n["class"] == "deny"]
    check("transformer: deny ops drawn as deny",
          all('<g id="op_%d" class="node op deny"' % i in dom for i in deny)
          and len(deny) > 0)
    if shot.exists():
        width, height, pixels = decode_png(shot.read_bytes())
        check("transformer: screenshot is a PNG of the window",
              (width, height) == WINDOW, "%dx%d" % (width, height))
        bf16, f32 = has_colour(pixels, BF16_FILL), has_colour(pixels, F32_FILL)
        # bf16 fills the graph's ops; fp32 at least the chart's bar.
        check("transformer: screenshot shows the precision colours",
              bf16 > 5000 and f32 > 100,
              "%d bf16 pixels, %d fp32 pixels" % (bf16, f32))
    else:
        check("transformer: screenshot is a PNG of the window", False,
              "no screenshot")

    # 10,051 ops with name scopes: collapsed into blocks.
    model = work / "big_scoped.onnx"
    ops = big_model(model, scoped=True)
    data, html = report(mpc_opt, model, work, "big_scoped")
    dom, shot, _ = load(binary, work, html, "big_scoped")
    groups = len(re.findall(r'<g id="group_\d+" class="node group"', dom))
    check("10,051 scoped ops: collapsed into 51 blocks, and the page says so",
          len(data["nodes"]) == ops and groups == 51 and
          'data-mode="collapsed"' in dom and
          "collapsed into 51 blocks by name scope" in dom,
          "%d blocks" % groups)
    check("10,051 scoped ops: a table row per op",
          len(re.findall(r'<tr id="row_\d+">', dom)) == ops)
    check("10,051 scoped ops: screenshot produced",
          shot.exists() and decode_png(shot.read_bytes())[:2] == WINDOW)

    # 10,051 ops without scopes: the table, and the page says so.
    model = work / "big_flat.onnx"
    ops = big_model(model, scoped=False)
    data, html = report(mpc_opt, model, work, "big_flat")
    dom, shot, _ = load(binary, work, html, "big_flat")
    check("10,051 unscoped ops: table only, and the page says so",
          'data-mode="table"' in dom and "showing the table only" in dom and
          '<g id="op_' not in dom)
    check("10,051 unscoped ops: a table row per op",
          len(re.findall(r'<tr id="row_\d+">', dom)) == ops)
    failures = results.count(False)
    print("%d passed, %d failed" % (len(results) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
