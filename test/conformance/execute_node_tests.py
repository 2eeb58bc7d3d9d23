#!/usr/bin/env python3
"""Execution conformance over the ONNX backend node tests (fp32, CPU).

Each node test mpc imports is compiled into an inference executable
(`mpc-opt --mode=infer`), run on test_data_set_0's inputs, and its outputs
compared with the expected ones (rtol 1e-3, atol 1e-4). Prints passed /
failed / unsupported (not imported, or no lowering yet) / crashed, and
fails on any crash or wrong result, or when fewer pass than the floor
checked in beside this script (execute_floor.txt).
"""
import argparse
import concurrent.futures
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_DATA = pathlib.Path("/usr/share/libonnx-testdata/data/node")
# What .npy and mpc's runtime hold (numpy has no bfloat16).
DTYPES = {np.dtype(t) for t in (np.float32, np.float16, np.float64, np.int64,
                                np.int32, np.int16, np.int8, np.uint64,
                                np.uint32, np.uint16, np.uint8, np.bool_)}


def run_case(mpc_opt, case, timeout):
    model_path = case / "model.onnx"
    data = case / "test_data_set_0"
    imported = subprocess.run([mpc_opt, str(model_path), "-o", os.devnull],
                              capture_output=True, timeout=timeout)
    if imported.returncode != 0:
        return "unsupported", "not imported"
    model = onnx.load(str(model_path))
    initializers = {t.name for t in model.graph.initializer}
    input_names = [i.name for i in model.graph.input if i.name not in initializers]
    output_names = [o.name for o in model.graph.output]
    inputs = [numpy_helper.to_array(onnx.load_tensor(str(data / ("input_%d.pb" % i))))
              for i in range(len(input_names))]
    expected = [numpy_helper.to_array(onnx.load_tensor(str(data / ("output_%d.pb" % i))))
                for i in range(len(output_names))]
    if any(a.dtype not in DTYPES for a in inputs + expected):
        return "unsupported", "dtype"
    with tempfile.TemporaryDirectory() as work:
        exe = os.path.join(work, "program")
        try:
            built = subprocess.run([mpc_opt, str(model_path), "--mode=infer",
                                    "-o", exe], capture_output=True, text=True,
                                   timeout=timeout)
        except subprocess.TimeoutExpired:
            return "crashed", "compile hung"
        if built.returncode == 1:
            return "unsupported", built.stderr.strip().splitlines()[0][-160:] \
                if built.stderr.strip() else "no lowering"
        if built.returncode != 0:
            return "crashed", "compile exit %d: %s" % (built.returncode,
                                                      built.stderr[-300:])
        args = [exe, "--output-dir", work]
        for name, array in zip(input_names, inputs):
            path = os.path.join(work, "in_%d.npy" % len(args))
            # np.require keeps 0-d arrays 0-d (ascontiguousarray would not).
            np.save(path, np.require(array, requirements="C"))
            args += ["--input", "%s=%s" % (name, path)]
        try:
            ran = subprocess.run(args, capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired:
            return "crashed", "run hung"
        if ran.returncode != 0:
            kind = "failed" if ran.returncode == 1 else "crashed"
            return kind, "run exit %d: %s" % (ran.returncode, ran.stderr[-300:])
        for name, want in zip(output_names, expected):
            got = np.load(os.path.join(work, name + ".npy"))
            if got.shape != want.shape:
                return "failed", "%s: shape %s, expected %s" % (
                    name, got.shape, want.shape)
            if not np.allclose(got.astype(np.float64), want.astype(np.float64),
                               rtol=1e-3, atol=1e-4, equal_nan=True):
                diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
                return "failed", "%s: max abs error %.3g" % (name,
                                                             np.nanmax(diff))
    return "passed", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mpc-opt", required=True)
    parser.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA)
    parser.add_argument("--floor", type=pathlib.Path,
                        default=HERE / "execute_floor.txt")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--list", choices=["passed", "failed", "unsupported",
                                           "crashed"])
    args = parser.parse_args()
    cases = sorted(p.parent for p in args.data.glob("*/model.onnx"))
    results = {"passed": [], "failed": [], "unsupported": [], "crashed": []}

    def one(case):
        try:
            return case, run_case(args.mpc_opt, case, args.timeout)
        except subprocess.TimeoutExpired:
            return case, ("crashed", "hung")

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for case, (kind, message) in pool.map(one, cases):
            results[kind].append((case.name, message))
    if args.list:
        for name, message in sorted(results[args.list]):
            print("%s\t%s" % (name, message))
    for kind in ("failed", "crashed"):
        for name, message in sorted(results[kind]):
            print("%s %s: %s" % (kind.upper(), name, message))
    floor = int(args.floor.read_text().split()[0])
    passed = len(results["passed"])
    print("node tests executed (fp32, CPU): %d models" % len(cases))
    print("  passed:      %d (floor %d)" % (passed, floor))
    print("  failed:      %d" % len(results["failed"]))
    print("  unsupported: %d" % len(results["unsupported"]))
    print("  crashed:     %d" % len(results["crashed"]))
    ok = not results["failed"] and not results["crashed"] and passed >= floor
    print("execution conformance: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
