"""`python -m mpc`: mpc-opt's main flags from Python.

    python -m mpc model.onnx --precision bf16 -o train_model
    python -m mpc model.onnx --precision bf16 --precision-report report.html -o /dev/null
    python -m mpc --which

Flags it does not know are passed to mpc-opt unchanged.
"""
import argparse
import subprocess
import sys

from ._errors import MpcError
from ._tool import find_tool


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m mpc",
        description="Compile an ONNX model with mpc (a front end to "
                    "mpc-opt; other flags go to mpc-opt unchanged).")
    parser.add_argument("model", nargs="?", help="the ONNX model")
    parser.add_argument("-o", dest="output", help="output: a training or "
                        "inference binary, or IR with --mode=opt")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16",
                                                "auto"])
    parser.add_argument("--mode", choices=["train", "infer", "opt"])
    parser.add_argument("--policy", help="JSON precision policy file")
    parser.add_argument("--precision-report",
                        help="FILE.html (page), FILE (JSON) or - (table)")
    parser.add_argument("--loss", choices=["cross-entropy", "mse", "model"])
    parser.add_argument("--loss-output")
    parser.add_argument("--optimizer",
                        choices=["sgd", "momentum", "adam", "adamw"])
    parser.add_argument("--lr", type=float)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--input-shape", action="append", default=[],
                        help="NAME:32x3x224x224 (repeatable)")
    parser.add_argument("--emit", choices=["exe", "obj", "llvm", "mlir", "ptx"])
    parser.add_argument("--target", choices=["cpu", "cuda", "cpu,cuda"])
    parser.add_argument("--gpu-arch", choices=["sm_80", "sm_90"])
    parser.add_argument("--device-plan",
                        help="with --target=cuda: FILE (JSON) or - (table)")
    parser.add_argument("-v", dest="verbose", action="store_true",
                        help="say which mpc-opt runs and time each stage")
    parser.add_argument("--which", action="store_true",
                        help="print the mpc-opt used and where it was found")
    args, passthrough = parser.parse_known_args(argv)
    try:
        tool = find_tool()
    except MpcError as error:
        print("mpc: error: %s" % error.message, file=sys.stderr)
        return 1
    if args.which:
        print(tool)
        return 0
    if not args.model:
        parser.error("a model is required")
    if args.verbose:
        print("mpc: using mpc-opt %s" % tool, file=sys.stderr)
    command = [tool.path, args.model]
    for flag in ("precision", "mode", "policy", "precision_report", "loss",
                 "loss_output", "optimizer", "lr", "weight_decay",
                 "batch_size", "emit", "target", "gpu_arch", "device_plan"):
        value = getattr(args, flag)
        if value is not None:
            command.append("--%s=%s" % (flag.replace("_", "-"), value))
    command += ["--input-shape=" + shape for shape in args.input_shape]
    if args.verbose:
        command.append("-v")
    command += passthrough
    if args.output:
        command += ["-o", args.output]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
