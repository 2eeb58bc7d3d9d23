"""Exporting PyTorch modules to ONNX for mpc."""
import os
import pathlib

from ._errors import MpcError


def from_torch(module, example_inputs, path, *, training=True,
               input_names=None, output_names=None, dynamic_batch=True,
               opset=17):
    """Exports `module` with torch.onnx.export to `path` (written
    atomically) and returns the path, ready for mpc.compile. The first dim
    of every input and output is dynamic (the batch) unless
    dynamic_batch=False.

    With `training` (the default: mpc compiles training programs) the
    export keeps what training needs: BatchNorm with batch statistics and
    its running statistics, Dropout with training_mode, and every
    parameter its own initializer (no constant folding, no merging of
    parameters that happen to be equal, as an eval-mode export merges two
    fresh LayerNorms' weights). training=False exports for inference.
    The module's own mode is left as it was."""
    try:
        import torch
    except ImportError:
        raise MpcError(
            "mpc.from_torch needs PyTorch, which is not installed here "
            "(Debian: apt install python3-torch); export the model to ONNX "
            "another way and pass the file to mpc.compile") from None
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    input_names = list(input_names or (
        ["input"] if len(example_inputs) == 1 else
        ["input_%d" % i for i in range(len(example_inputs))]))
    output_names = list(output_names or ["output"])
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {name: {0: "batch"}
                        for name in input_names + output_names}
    path = pathlib.Path(path)
    temp = path.with_name(path.name + ".tmp-%d" % os.getpid())
    was_training = module.training
    mode = (torch.onnx.TrainingMode.TRAINING if training
            else torch.onnx.TrainingMode.EVAL)
    try:
        torch.onnx.export(module, example_inputs, str(temp),
                          input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset,
                          training=mode, do_constant_folding=not training)
        os.replace(temp, path)
    except Exception as error:
        if temp.exists():
            temp.unlink()
        if isinstance(error, MpcError):
            raise
        raise MpcError("torch.onnx.export failed: %s" % error) from error
    finally:
        module.train(was_training)
    return path
