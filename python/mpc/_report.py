"""The precision report: which precision each op computes in, and why."""
import dataclasses
import json
import os
import pathlib
import tempfile

from ._errors import MpcError
from ._program import _check_precision, _model_path, _policy_args
from ._tool import find_tool


@dataclasses.dataclass
class ReportNode:
    """One decided op. `precision_class` is allow (low by rule), deny (fp32
    by rule), infer (decided from its neighbours) or clear (data movement);
    `inputs` are the operands' sources with the casts on the way."""
    id: int
    name: str
    op: str
    precision_class: str
    compute: str
    accumulate: str
    result: str
    reason: str
    casts_in: int
    flops: float
    function: str
    inputs: list

    @classmethod
    def _from_json(cls, data):
        return cls(id=data["id"], name=data["name"], op=data["op"],
                   precision_class=data["class"], compute=data["compute"],
                   accumulate=data["accumulate"], result=data["result"],
                   reason=data["reason"], casts_in=data["casts_in"],
                   flops=data.get("flops", 0),
                   function=data.get("function", ""),
                   inputs=list(data.get("inputs", [])))


class PrecisionReport:
    """What mpc decided for a model: `.nodes` (ReportNode per op),
    `.summary` (ops and FLOPs by precision, casts and their bytes, memory
    against fp32), `.to_json()`, `.to_html(path)`."""

    def __init__(self, data):
        if not isinstance(data, dict) or "nodes" not in data or \
                "summary" not in data:
            raise MpcError("not a precision report: expected 'nodes' and "
                           "'summary'")
        self._data = data
        self.nodes = [ReportNode._from_json(n) for n in data["nodes"]]
        self.summary = data["summary"]

    @classmethod
    def from_json(cls, text_or_path):
        """A report from to_json()'s text, or from a .json file."""
        text = text_or_path
        if isinstance(text_or_path, os.PathLike) or (
                isinstance(text_or_path, str) and
                not text_or_path.lstrip().startswith("{")):
            text = pathlib.Path(text_or_path).read_text()
        try:
            return cls(json.loads(text))
        except json.JSONDecodeError as error:
            raise MpcError("not a precision report: %s" % error) from None

    def to_json(self, indent=2):
        return json.dumps(self._data, indent=indent)

    def __eq__(self, other):
        return isinstance(other, PrecisionReport) and \
            self._data == other._data

    def __repr__(self):
        by = ", ".join("%s %d" % kv for kv in
                       self.summary.get("ops_by_precision", {}).items())
        return "<mpc.PrecisionReport %d ops (%s), %d casts>" % (
            len(self.nodes), by, self.summary.get("casts", 0))

    def node(self, name, function="main"):
        """The node called `name` (in `function`: main for inference
        reports; train_step, eval_step for training programs)."""
        for node in self.nodes:
            if node.name == name and (node.function == function or
                                      not node.function):
                return node
        raise KeyError(name)

    def to_html(self, path):
        """Writes the report as one self-contained HTML page: the graph laid
        out by Graphviz, the summary and a chart, the node table."""
        tool = find_tool()
        path = pathlib.Path(path)
        with tempfile.TemporaryDirectory(prefix="mpc-report-") as work:
            report = pathlib.Path(work) / "report.json"
            report.write_text(self.to_json())
            tool.run(["--render-report=%s" % report, "-o", path])
        return path


def assign(model, precision="bf16", policy=None, *, algorithm=None,
           input_shapes=None):
    """Runs mpc's precision assignment on `model` (a path or an
    onnx.ModelProto) and returns the PrecisionReport. `policy` is a JSON
    policy file or the same as a dict: {"allow": [...], "deny": [...],
    "infer": [...], "clear": [...], "nodes": {"name or glob": "fp32"|"low"}}.
    """
    _check_precision(precision)
    if precision == "fp32":
        raise MpcError("assign needs precision='bf16' or 'fp16' (fp32 "
                       "decides nothing)")
    tool = find_tool()
    with tempfile.TemporaryDirectory(prefix="mpc-assign-") as work:
        work = pathlib.Path(work)
        model_path = _model_path(model, work)
        policy_flags, replace = _policy_args(policy, work)
        report = work / "report.json"
        args = [model_path, "--mode=opt", "--precision=" + precision,
                *policy_flags, "--precision-report=%s" % report]
        if algorithm:
            args.append("--precision-algorithm=" + algorithm)
        for name, shape in (input_shapes or {}).items():
            args.append("--input-shape=%s:%s" % (name,
                                                 "x".join(map(str, shape))))
        tool.run(args + ["-o", os.devnull], replace=replace)
        return PrecisionReport.from_json(report.read_text())
