#!/usr/bin/env python3
"""Resize and Upsample node tests with their scales and sizes pinned.

The ONNX backend tests pass Resize's roi, scales and sizes as graph inputs,
which mpc does not take at run time (#17); a model exported by PyTorch has
them as initializers. Each test_resize_* / test_upsample_* case is
rewritten with those inputs as initializers (their test values) and then
run exactly as execute_node_tests.py runs a case: compiled for fp32, run,
compared with the expected output (rtol 1e-3, atol 1e-4). Prints one line
per case; the forms mpc rejects must be rejected with a message naming
the node and the form, never run.
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

import onnx
from onnx import numpy_helper

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from execute_node_tests import DEFAULT_DATA, run_case  # noqa: E402

# Forms without a lowering, and what the error must say.
REJECTED = {
    "test_resize_tf_crop_and_resize": "tf_crop_and_resize",
    "test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn":
        "tf_half_pixel_for_nn",
}


def pin_inputs(case, out):
    model = onnx.load(str(case / "model.onnx"))
    data = case / "test_data_set_0"
    graph = model.graph
    keep = graph.input[0]
    for i, value in enumerate(list(graph.input)[1:], start=1):
        tensor = onnx.load_tensor(str(data / ("input_%d.pb" % i)))
        tensor.name = value.name
        graph.initializer.append(tensor)
    del graph.input[1:]
    assert graph.input[0] == keep
    out.mkdir()
    (out / "test_data_set_0").mkdir()
    onnx.save(model, str(out / "model.onnx"))
    for name in ("input_0.pb", "output_0.pb"):
        (out / "test_data_set_0" / name).write_bytes((data / name).read_bytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mpc-opt", required=True)
    parser.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    cases = sorted(p for p in args.data.glob("test_resize_*")) + \
        sorted(p for p in args.data.glob("test_upsample_*"))
    failures = 0
    counts = {"passed": 0, "rejected": 0}
    with tempfile.TemporaryDirectory() as work:
        for case in cases:
            pinned = pathlib.Path(work) / case.name
            pin_inputs(case, pinned)
            kind, message = run_case(args.mpc_opt, pinned, 120)
            if case.name in REJECTED:
                ran = subprocess.run([args.mpc_opt, str(pinned / "model.onnx"),
                                      "-o", "/dev/null"], capture_output=True,
                                     text=True)
                ok = ran.returncode == 1 and REJECTED[case.name] in ran.stderr \
                    and "node 'Resize_" in ran.stderr
                counts["rejected"] += ok
                print("%s rejected %s" % (case.name, "ok" if ok else "WRONG: " +
                                          ran.stderr.strip()))
            else:
                ok = kind == "passed"
                counts["passed"] += ok
                print("%s %s" % (case.name, "ok" if ok else
                                 "%s: %s" % (kind, message)))
            failures += not ok
    print("resize node tests: %d passed, %d rejected as expected, %d wrong" %
          (counts["passed"], counts["rejected"], failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
