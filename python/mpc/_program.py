"""Compiling a model into a binary and running it."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import weakref

import numpy as np

from ._errors import MpcError
from ._tool import find_tool

PRECISIONS = ("fp32", "bf16", "fp16", "auto")
MODES = ("train", "infer")



def output_file_name(name):
    """The file a compiled program writes output `name` to (the runtime's
    rule, include/mpc/Runtime/Runtime.h): the name percent-encoded except
    A-Z a-z 0-9 - . _ ~, a leading '.' as %2E, plus .npy. Model names are
    untrusted; the file stays inside its directory, and
    urllib.parse.unquote(file[:-4]) gives the name back."""
    quoted = urllib.parse.quote(name, safe="")
    if quoted.startswith("."):
        quoted = "%2E" + quoted[1:]
    return quoted + ".npy"

class _WorkDir:
    """A temporary directory that lives as long as its owner."""

    def __init__(self, owner, prefix):
        self.path = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
        weakref.finalize(owner, shutil.rmtree, str(self.path), True)


def _model_path(model, work):
    """A path for `model`: a path as is, an onnx.ModelProto saved."""
    if isinstance(model, (str, os.PathLike)):
        path = pathlib.Path(model)
        if not path.is_file():
            raise MpcError("%s: error: no such model file" % path)
        return path
    try:
        import onnx
    except ImportError:  # pragma: no cover - onnx is a dependency
        raise MpcError("a model object needs the onnx package") from None
    if not isinstance(model, onnx.ModelProto):
        raise MpcError("model must be a path or an onnx.ModelProto, got %s"
                       % type(model).__name__)
    path = work / "model.onnx"
    onnx.save(model, str(path))
    return path


def _policy_args(policy, work):
    """--policy for a file path or a dict (written as the JSON policy file);
    the second value maps the temporary path back to what the user gave."""
    if policy is None:
        return [], {}
    if isinstance(policy, dict):
        path = work / "policy.json"
        path.write_text(json.dumps(policy))
        return ["--policy=%s" % path], {str(path): "<policy dict>"}
    if isinstance(policy, (str, os.PathLike)):
        return ["--policy=%s" % os.fspath(policy)], {}
    raise MpcError("policy must be a dict or a path to a JSON policy file, "
                   "got %s" % type(policy).__name__)


def _check_precision(precision):
    if precision not in PRECISIONS:
        raise MpcError("precision must be one of %s, got %r"
                       % (", ".join(PRECISIONS), precision))


TARGETS = ("cpu", "cuda", "cpu,cuda")


def _check_target(target):
    if target not in TARGETS:
        raise MpcError("target must be one of %s, got %r (the PTX alone: "
                       "`python -m mpc MODEL --target=cuda --emit=ptx -o "
                       "FILE.ptx`)" % (", ".join(TARGETS), target))


def _dynamic_batch_shapes(model_path, batch_size):
    """--input-shape flags pinning each input's dynamic first dim."""
    import onnx
    model = onnx.load(str(model_path), load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    flags = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        shape = [d.dim_value if d.HasField("dim_value") else -1 for d in dims]
        if -1 in shape[1:]:
            raise MpcError("input '%s' has dynamic dims beyond the first; "
                           "give input_shapes={'%s': (...)}"
                           % (value.name, value.name))
        if shape and shape[0] == -1:
            shape[0] = batch_size
            flags.append("--input-shape=%s:%s" % (
                value.name, "x".join(map(str, shape))))
    return flags


# The program descriptor's format (mpc/ABI/ProgramABI.h's kDescriptorVersion).
_DESCRIPTOR_VERSION = 1


def _describe(binary):
    """The program descriptor a compiled binary prints with --describe."""
    done = subprocess.run([os.fspath(binary), "--describe"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise MpcError("%s --describe failed: %s" % (binary,
                                                     done.stderr.strip()))
    try:
        descriptor = json.loads(done.stdout)
    except ValueError as e:
        raise MpcError("%s --describe printed no JSON: %s" % (binary, e))
    if descriptor.get("version") != _DESCRIPTOR_VERSION:
        raise MpcError("%s has descriptor version %r; this mpc reads %d" % (
            binary, descriptor.get("version"), _DESCRIPTOR_VERSION))
    return descriptor


def _values(values, role):
    """{name: (dtype, shape)} of the descriptor `values` that have `role`."""
    return {v["name"]: (np.dtype(v["dtype"]), tuple(v["shape"]))
            for v in values if v["role"] == role}


def compile(model, precision="bf16", policy=None, loss=None, optimizer=None,
            target="cpu", output=None, *, mode="train", batch_size=None,
            input_shapes=None, loss_output=None, lr=None, weight_decay=None,
            loss_scaling=None, clip_grad_norm=None, clip_grad_value=None,
            accumulate=None,
            extra_args=()):
    """Compiles `model` (a path or an onnx.ModelProto) into a binary.

    mode="train" (default) builds the training binary: forward, loss
    (`loss`: "cross-entropy", "mse" or "model"), backward, loss scaling and
    the `optimizer` ("sgd", "momentum", "adam", "adamw") on fp32 master
    weights. mode="infer" builds an inference program; a dynamic batch dim
    is pinned to `batch_size` (default 1). `policy` is a JSON policy file or
    the same as a dict. `output` is where the binary goes (default: a
    temporary directory that lives as long as the Program). `target` is
    "cpu", "cuda" (kernels as PTX run through the CUDA driver, loaded at
    run time) or "cpu,cuda" (both; train(device=...) and infer(device=...)
    pick, "auto" by default: the GPU when there is one). `clip_grad_norm`
    and `clip_grad_value` compile gradient clipping in (after unscaling,
    as clip_grad_norm_ / clip_grad_value_); train(clip_grad_norm=...)
    overrides the threshold. `accumulate=K` compiles gradient accumulation
    in (K batches per update, the default; train(accumulate=...) overrides
    it).
    """
    _check_precision(precision)
    _check_target(target)
    if mode not in MODES:
        raise MpcError("mode must be 'train' or 'infer', got %r" % (mode,))
    tool = find_tool()
    program = Program.__new__(Program)
    work = _WorkDir(program, "mpc-program-").path
    model_path = _model_path(model, work)
    policy_flags, replace = _policy_args(policy, work)
    output = pathlib.Path(output) if output else work / (mode + "_model")
    args = [model_path, "--mode=" + mode, "--precision=" + precision,
            "--target=" + target, *policy_flags]
    if mode == "infer":
        if input_shapes:
            args += ["--input-shape=%s:%s" % (name, "x".join(map(str, shape)))
                     for name, shape in input_shapes.items()]
        else:
            args += _dynamic_batch_shapes(model_path, batch_size or 1)
        if any(v is not None for v in (loss, optimizer, loss_output, lr,
                                        weight_decay, loss_scaling,
                                        clip_grad_norm, clip_grad_value,
                                        accumulate)):
            raise MpcError("loss, optimizer and training hyper-parameters "
                           "belong to mode='train'")
    else:
        for flag, value in (("loss", loss), ("optimizer", optimizer),
                            ("loss-output", loss_output), ("lr", lr),
                            ("weight-decay", weight_decay),
                            ("loss-scaling", loss_scaling),
                            ("clip-grad-norm", clip_grad_norm),
                            ("clip-grad-value", clip_grad_value),
                            ("accumulate", accumulate),
                            ("batch-size", batch_size)):
            if value is not None:
                args.append("--%s=%s" % (flag, value))
        if input_shapes:
            args += ["--input-shape=%s:%s" % (name, "x".join(map(str, shape)))
                     for name, shape in input_shapes.items()]
    args += list(extra_args) + ["-o", output]
    tool.run(args, replace=replace)
    program._init(output, mode, tool, model_path, precision, work)
    if precision == "auto":
        # What the compiler chose for the targets, and why.
        program.precision = program.descriptor["precision"]
        program.precision_reason = \
            program.descriptor["precision_choice"]["reason"]
    return program


class Program:
    """A compiled mpc binary (training or inference)."""

    def __init__(self, *args, **kwargs):
        raise TypeError("use mpc.compile(...) to make a Program")

    def _init(self, path, mode, tool, model, precision, work):
        self.path = pathlib.Path(path)
        self.mode = mode
        self.tool = tool
        self.model = model
        self.precision = precision
        self.precision_reason = None  # why precision="auto" chose it
        self._work = work
        self._trained_onnx = None
        self._descriptor = None
        # Temporary data files by the argument they hold, so that the
        # binary's errors name the argument.
        self._arguments = {}
        self.log = ""

    def __repr__(self):
        return "<mpc.Program %s %s %s>" % (self.mode, self.precision,
                                            self.path)

    def _data_file(self, value, name, dtype=None, argument=None):
        """A .npy path for `value`: a path as given, an array saved in the
        binary's dtype (float64 images and int32 labels converted, as
        infer() does). `argument` names it in errors."""
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
        array = np.asarray(value)
        if dtype is not None and array.dtype != np.dtype(dtype):
            target = np.dtype(dtype)
            if array.dtype.kind == "f" and target.kind == "f":
                array = array.astype(target)
            elif array.dtype.kind in "iu" and target.kind in "iu":
                if array.size and (array.min() < np.iinfo(target).min or
                                   array.max() > np.iinfo(target).max):
                    raise MpcError("%s: values out of range for %s"
                                   % (argument or name, target))
                array = array.astype(target)
            else:
                raise MpcError("%s: dtype %s, the program takes %s"
                               % (argument or name, array.dtype, target))
        path = self._work / output_file_name(name)
        np.save(path, array)
        self._arguments[str(path)] = argument or name
        return str(path)

    def _inputs_args(self, flag, inputs, stem, argument):
        signature = self.inputs
        if isinstance(inputs, dict):
            return [a for i, (name, value) in enumerate(inputs.items())
                    for a in (flag, "%s=%s" % (name, self._data_file(
                        value, "%s_%d" % (stem, i),
                        signature.get(name, (None,))[0],
                        "%s[%r]" % (argument, name))))]
        dtype = (next(iter(signature.values()))[0]
                 if len(signature) == 1 else None)
        return [flag, self._data_file(inputs, stem, dtype, argument)]

    def _label_dtype(self):
        labels = _values(self._function()["arguments"], "label")
        return next(iter(labels.values()))[0] if labels else None

    def _run(self, args, verbose):
        command = [str(self.path)] + [str(a) for a in args]
        if verbose:
            done = subprocess.run(command, stdout=None, stderr=subprocess.PIPE,
                                  text=True)
            out = ""
        else:
            done = subprocess.run(command, capture_output=True, text=True)
            out = done.stdout
        self.log = out
        if done.returncode != 0:
            message = (done.stderr.strip() or out.strip() or
                       "%s exited with status %d" % (self.path.name,
                                                     done.returncode))
            for path, argument in self._arguments.items():
                message = message.replace(path, argument)
            raise MpcError(message, command=command,
                           returncode=done.returncode)
        return done

    def train(self, inputs, labels, val=None, *, epochs=None, steps=None,
              batch_size=None, seed=0, log_every=None, verbose=False,
              **hyper):
        """Trains and returns the binary's metrics (steps, epochs,
        train_loss, val_loss, val_accuracy, loss_scale, skipped_steps,
        samples_per_second).

        `inputs`/`labels` are numpy arrays or .npy paths (a dict of them
        for several inputs); `val` is (inputs, labels). Other keywords are
        the binary's flags: lr, weight_decay, optimizer, accumulate,
        clip_grad_norm, checkpoint, checkpoint_every, resume, eval_only,
        device.
        """
        if self.mode != "train":
            raise MpcError("this Program is an inference build; compile "
                           "with mode='train' to train")
        if (epochs is None) == (steps is None):
            raise MpcError("give exactly one of epochs= and steps=")
        args = self._inputs_args("--inputs", inputs, "train_inputs", "inputs")
        label_dtype = self._label_dtype()
        args += ["--labels", self._data_file(labels, "train_labels",
                                             label_dtype, "labels")]
        if val is not None:
            val_inputs, val_labels = val
            args += self._inputs_args("--val-inputs", val_inputs, "val_inputs",
                                      "val[0]")
            args += ["--val-labels", self._data_file(
                val_labels, "val_labels", label_dtype, "val[1]")]
        args += ["--epochs", epochs] if epochs is not None else ["--steps",
                                                                  steps]
        if batch_size is not None:
            args += ["--batch-size", batch_size]
        args += ["--seed", seed]
        if log_every is not None:
            args += ["--log-every", log_every]
        for key, value in hyper.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                args.append(flag)
            elif value is not False and value is not None:
                args += [flag, value]
        metrics_path = self._work / "metrics.json"
        trained = self._work / "trained.onnx"
        args += ["--metrics-json", metrics_path, "--save-onnx", trained]
        self._run(args, verbose)
        self._trained_onnx = trained
        with open(metrics_path) as f:
            return json.load(f)

    def save_onnx(self, path):
        """Writes the model with the trained weights (after train())."""
        if self._trained_onnx is None or not self._trained_onnx.exists():
            raise MpcError("nothing trained yet: call train() before "
                           "save_onnx()")
        path = pathlib.Path(path)
        temp = path.with_name(path.name + ".tmp-%d" % os.getpid())
        shutil.copyfile(self._trained_onnx, temp)
        os.replace(temp, path)
        return path

    @property
    def descriptor(self):
        """The binary's program descriptor (`--describe`): every function's
        arguments and results with their roles, dtypes and shapes, the
        training state, the optimizer, precision and loss scaling."""
        if self._descriptor is None:
            self._descriptor = _describe(self.path)
        return self._descriptor

    def _function(self):
        functions = self.descriptor["functions"]
        return functions["train_step" if "train_step" in functions else "main"]

    @property
    def inputs(self):
        """{name: (dtype, shape)} the binary was compiled for."""
        return _values(self._function()["arguments"], "input")

    @property
    def outputs(self):
        """{name: (dtype, shape)} an inference binary writes (a training
        binary's evaluated output)."""
        functions = self.descriptor["functions"]
        if "main" in functions:
            return _values(functions["main"]["results"], "output")
        return _values(functions["eval_step"]["results"], "output")

    @property
    def state(self):
        """{slot: (dtype, shape)} of a training binary's state: "param:NAME"
        (trained weights), optimizer slots, "stat:NAME" (BatchNorm running
        statistics), counters."""
        return _values(self._function()["arguments"], "state")

    @property
    def parameters(self):
        """{name: shape} of the weights a training binary trains."""
        return {v["parameter"]: tuple(v["shape"])
                for v in self._function()["arguments"]
                if v["role"] == "state" and v["kind"] == "param"}

    def infer(self, *args, verbose=False, device=None, **named):
        """Runs an inference build on numpy arrays (positional in input
        order, or by name) and returns {output name: array}. Inputs whose
        first dim differs from the compiled batch run in batches (the last
        one padded), when that is the only difference. `device` is the
        binary's --device (cpu, cuda or auto)."""
        if self.mode != "infer":
            raise MpcError("this Program is a training build; compile with "
                           "mode='infer' to run inference")
        signature = self.inputs
        names = list(signature)
        if len(args) > len(names):
            raise MpcError("%d inputs given, the program takes %d (%s)"
                           % (len(args), len(names), ", ".join(names)))
        values = dict(zip(names, args))
        values.update(named)
        missing = [n for n in names if n not in values]
        unknown = [n for n in values if n not in signature]
        if missing or unknown:
            raise MpcError("inputs missing: %s; unknown: %s" % (
                ", ".join(missing) or "none", ", ".join(unknown) or "none"))
        arrays = {n: np.asarray(values[n], dtype=signature[n][0])
                  for n in names}
        # Batch along the first dim when every input differs only there.
        batch = {shape[0] if shape else None for _, shape in signature.values()}
        count = {a.shape[0] if a.ndim else None for a in arrays.values()}
        batched = (len(batch) == 1 and len(count) == 1 and None not in batch
                   and all(a.shape[1:] == signature[n][1][1:]
                           for n, a in arrays.items()))
        if not batched:
            for n, a in arrays.items():
                if a.shape != signature[n][1]:
                    raise MpcError("input '%s' has shape %s; the program was "
                                   "compiled for %s" % (n, a.shape,
                                                        signature[n][1]))
            return self._infer_once(arrays, verbose, device)
        b, total = batch.pop(), count.pop()
        pieces = []
        for start in range(0, total, b):
            chunk = {}
            for n, a in arrays.items():
                part = a[start:start + b]
                if part.shape[0] < b:
                    pad = np.zeros((b - part.shape[0],) + part.shape[1:],
                                   part.dtype)
                    part = np.concatenate([part, pad])
                chunk[n] = part
            pieces.append(self._infer_once(chunk, verbose, device))
        used = total - (len(pieces) - 1) * b
        pieces[-1] = {k: v[:used] for k, v in pieces[-1].items()}
        return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}

    def _infer_once(self, arrays, verbose, device=None):
        out_dir = pathlib.Path(tempfile.mkdtemp(dir=self._work, prefix="out-"))
        args = ["--device", device] if device else []
        for i, (name, value) in enumerate(arrays.items()):
            path = out_dir / ("in_%d.npy" % i)
            np.save(path, value)
            args += ["--input", "%s=%s" % (name, path)]
        args += ["--output-dir", out_dir]
        self._run(args, verbose)
        return {name: np.load(out_dir / output_file_name(name))
                for name in self.outputs}
