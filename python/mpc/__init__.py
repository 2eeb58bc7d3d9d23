"""mpc from Python: compile ONNX models into mixed-precision training or
inference binaries, train them, and see which precision each op got.

    import mpc
    program = mpc.compile("model.onnx", precision="bf16")
    metrics = program.train(X, Y, val=(Xv, Yv), epochs=20, batch_size=32)

Everything runs through the `mpc-opt` tool (found through MPC_OPT, the
build tree, or PATH: `mpc.find_tool()` says which); its errors surface as
`mpc.MpcError` carrying the tool's message and the node it names.
"""
from ._errors import MpcError
from ._tool import Tool, find_tool
from ._program import Program, compile
from ._report import PrecisionReport, ReportNode, assign
from ._torch import from_torch

__version__ = "0.1.0"
__all__ = ["MpcError", "Tool", "find_tool", "Program", "compile",
           "PrecisionReport", "ReportNode", "assign", "from_torch"]
