#!/usr/bin/env python3
"""Import conformance over the ONNX backend node tests (libonnx-testdata).

Imports every /usr/share/libonnx-testdata/data/node/*/model.onnx with
mpc-opt and sorts each into: imported and verified, cleanly rejected (a
non-zero exit with an `error:` message), or crashed/hung (a signal, an
abort, any other exit, or no answer within the timeout).

Fails when anything crashed or hung, or when the imported count falls below
the floor checked in beside this script (import_floor.txt). With
--precision, every imported model also goes through the precision pipeline
(bf16 with the global assignment, fp16 with greedy painting), which must
succeed.
"""
import argparse
import concurrent.futures
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_DATA = pathlib.Path("/usr/share/libonnx-testdata/data/node")


PRECISION_RUNS = (["--precision=bf16"],
                  ["--precision=fp16", "--precision-algorithm=greedy"])


def run_one(mpc_opt, model, timeout, precision=False):
    try:
        proc = subprocess.run(
            [mpc_opt, str(model), "-o", os.devnull],
            capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return model, "crashed", "hung (no answer in %ss)" % timeout
    if proc.returncode == 0:
        for flags in PRECISION_RUNS if precision else ():
            try:
                run = subprocess.run(
                    [mpc_opt, str(model), *flags, "-o", os.devnull],
                    capture_output=True, text=True, errors="replace",
                    timeout=timeout)
            except subprocess.TimeoutExpired:
                return model, "precision", "%s hung" % " ".join(flags)
            if run.returncode != 0:
                return model, "precision", "%s: exit %d: %s" % (
                    " ".join(flags), run.returncode, run.stderr.strip()[-300:])
        return model, "imported", ""
    first = next((l for l in proc.stderr.splitlines() if "error:" in l), "")
    if proc.returncode == 1 and first:
        return model, "rejected", first
    return model, "crashed", "exit %d: %s" % (proc.returncode,
                                             proc.stderr.strip()[-400:])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mpc-opt", required=True)
    parser.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA)
    parser.add_argument("--floor", type=pathlib.Path,
                        default=HERE / "import_floor.txt")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--list", choices=["imported", "rejected", "crashed"],
                        help="print the models of one category")
    parser.add_argument("--precision", action="store_true",
                        help="also run the precision pipeline on each "
                             "imported model")
    args = parser.parse_args()

    models = sorted(args.data.glob("*/model.onnx"))
    if not models:
        print("no node tests under %s (install libonnx-testdata)" % args.data)
        return 1
    results = {"imported": [], "rejected": [], "crashed": [], "precision": []}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for model, kind, message in pool.map(
                lambda m: run_one(args.mpc_opt, m, args.timeout,
                                  args.precision), models):
            results[kind].append((model.parent.name, message))

    if args.list:
        for name, message in sorted(results[args.list]):
            print("%s\t%s" % (name, message))
    for name, message in sorted(results["crashed"]):
        print("CRASH %s: %s" % (name, message))
    for name, message in sorted(results["precision"]):
        print("PRECISION %s: %s" % (name, message))
    floor = int(args.floor.read_text().split()[0])
    imported = len(results["imported"]) + len(results["precision"])
    print("node tests: %d models" % len(models))
    print("  imported and verified: %d (floor %d)" % (imported, floor))
    print("  cleanly rejected:      %d" % len(results["rejected"]))
    print("  crashed or hung:       %d" % len(results["crashed"]))
    if args.precision:
        print("precision pipeline failures: %d of %d imported models" % (
            len(results["precision"]), imported))
    ok = not results["crashed"] and not results["precision"] and \
        imported >= floor
    print("import conformance: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
