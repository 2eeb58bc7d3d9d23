#!/usr/bin/env python3
"""Small ONNX models for the importer tests, built with onnx.helper.

    onnx_models.py NAME OUT.onnx      write model NAME
    onnx_models.py --list             list the models

Each model exercises one importer feature or one error path; the lit tests
generate what they need into their temporary directory, so no binary model
is checked in for these.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64
MODELS = {}


def model(fn):
    MODELS[fn.__name__] = fn
    return fn


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def make(nodes, inputs, outputs, inits=(), opset=17, ir=8, domains=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    opsets = [helper.make_opsetid("", opset)]
    opsets += [helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(graph, opset_imports=opsets,
                          producer_name="mpc-tests")
    m.ir_version = ir
    return m


rng = np.random.default_rng(0)


def weights(*shape):
    return rng.standard_normal(shape).astype(np.float32)


@model
def mlp(path):
    return make([
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="/fc1/Gemm",
                         transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="/relu"),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="/fc2/Gemm",
                         transB=1),
    ], [vi("x", F, ["N", 64])], [vi("y", F, ["N", 10])],
        [init("w1", weights(32, 64)), init("b1", weights(32)),
         init("w2", weights(10, 32)), init("b2", weights(10))])


@model
def sequential_names(path):
    # Parameter names as PyTorch's nn.Sequential and TensorFlow write them,
    # plus names that collide once made identifiers (a/b:0 and a_b_0).
    return make([
        helper.make_node("Gemm", ["x", "0.weight", "0.bias"], ["h"],
                         name="/0/Gemm", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="/1/Relu"),
        helper.make_node("Gemm", ["r", "2.weight", "a/b:0"], ["g"],
                         name="/2/Gemm", transB=1),
        helper.make_node("Add", ["g", "a_b_0"], ["s"], name="/add"),
        helper.make_node("Mul", ["s", "\u0432\u0435\u0441::k"], ["y"],
                         name="/mul"),
    ], [vi("x", F, ["N", 64])], [vi("y", F, ["N", 10])],
        [init("0.weight", weights(32, 64)), init("0.bias", weights(32)),
         init("2.weight", weights(10, 32)), init("a/b:0", weights(10)),
         init("a_b_0", weights(10)), init("\u0432\u0435\u0441::k",
                                             weights(10))])


def he_normal(rng, shape, fan):
    """He-initialised float32 weights drawn from `rng`."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan)).astype(np.float32)


def pooled_classifier(features):
    """The head of the digit CNNs: global average pooling of `features`,
    flattened, and a Gemm with fc.w, fc.b to `logits`."""
    return [
        helper.make_node("GlobalAveragePool", [features], ["g"], name="/gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="/flatten"),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["logits"],
                         name="/fc/Gemm", transB=1)]


@model
def cnn_digits(path):
    # A BatchNorm-free CNN for the 8x8 digits: padded and strided 3x3
    # convolutions (the training gradients of Conv), global average pooling
    # and a classifier; He-initialised from a fixed seed.
    rng = np.random.default_rng(0)
    he = lambda shape, fan: he_normal(rng, shape, fan)
    return make([
        helper.make_node("Reshape", ["image", "shape"], ["x4"],
                         name="/reshape"),
        helper.make_node("Conv", ["x4", "c1.w", "c1.b"], ["h1"],
                         name="/c1/Conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h1"], ["r1"], name="/r1"),
        helper.make_node("Conv", ["r1", "c2.w", "c2.b"], ["h2"],
                         name="/c2/Conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["h2"], ["r2"], name="/r2"),
    ] + pooled_classifier("r2"), [vi("image", F, ["N", 8, 8])],
        [vi("logits", F, ["N", 10])],
        [init("shape", np.array([-1, 1, 8, 8], np.int64)),
         init("c1.w", he((12, 1, 3, 3), 9)),
         init("c1.b", np.zeros(12, np.float32)),
         init("c2.w", he((24, 12, 3, 3), 108)),
         init("c2.b", np.zeros(24, np.float32)),
         init("fc.w", he((10, 24), 24)),
         init("fc.b", np.zeros(10, np.float32))])


def bn_pool_cnn(training):
    """A ResNet-style stem for the 8x8 digits: Conv, BatchNormalization,
    Relu, MaxPool, then Conv, BatchNormalization, Relu, global average
    pooling and a classifier. `training` writes BatchNormalization as
    PyTorch's TrainingMode.TRAINING export does (training_mode=1, the
    updated running statistics as extra outputs) and a Dropout with
    training_mode=true before the classifier; otherwise as an eval-mode
    export (running statistics frozen, no Dropout)."""
    rng = np.random.default_rng(1)
    he = lambda shape, fan: he_normal(rng, shape, fan)

    def bn(prefix, c):
        return [init(prefix + ".weight", np.ones(c, np.float32)),
                init(prefix + ".bias", np.zeros(c, np.float32)),
                init(prefix + ".running_mean",
                     rng.uniform(-0.1, 0.1, c).astype(np.float32)),
                init(prefix + ".running_var",
                     rng.uniform(0.8, 1.2, c).astype(np.float32))]

    def bn_node(prefix, x, y):
        outputs = [y]
        attrs = {}
        if training:
            outputs += [prefix + ".running_mean_out",
                        prefix + ".running_var_out"]
            attrs = {"training_mode": 1, "momentum": 0.9}
        return helper.make_node(
            "BatchNormalization",
            [x] + [prefix + s for s in (".weight", ".bias", ".running_mean",
                                        ".running_var")], outputs,
            name="/%s/BatchNormalization" % prefix, epsilon=1e-5, **attrs)
    head = [bn_node("bn2", "h2", "b2"),
            helper.make_node("Relu", ["b2"], ["r2"], name="/r2")]
    inits = []
    if training:
        head += [helper.make_node("Dropout", ["r2", "ratio", "training"],
                                  ["d2"], name="/dropout/Dropout")]
        inits = [init("ratio", np.array(0.1, np.float32)),
                 init("training", np.array(True))]
    return make([
        helper.make_node("Reshape", ["image", "shape"], ["x4"],
                         name="/reshape"),
        helper.make_node("Conv", ["x4", "c1.w"], ["h1"], name="/c1/Conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        bn_node("bn1", "h1", "b1"),
        helper.make_node("Relu", ["b1"], ["r1"], name="/r1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="/pool/MaxPool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "c2.w"], ["h2"], name="/c2/Conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    ] + head + pooled_classifier("d2" if training else "r2"),
        [vi("image", F, ["N", 8, 8])], [vi("logits", F, ["N", 10])],
        [init("shape", np.array([-1, 1, 8, 8], np.int64)),
         init("c1.w", he((16, 1, 3, 3), 9))] + bn("bn1", 16) +
        [init("c2.w", he((24, 16, 3, 3), 144))] + bn("bn2", 24) +
        [init("fc.w", he((10, 24), 24)),
         init("fc.b", np.zeros(10, np.float32))] + inits)


@model
def cnn_bn_pool_digits(path):
    # As an eval-mode export has it.
    return bn_pool_cnn(training=False)


@model
def cnn_bn_train_digits(path):
    # As a TrainingMode.TRAINING export has it: batch statistics, running
    # statistics updated, Dropout.
    return bn_pool_cnn(training=True)


@model
def nameless(path):
    return make([
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Neg", ["a"], ["b"]),
    ], [vi("x", F, [3])], [vi("b", F, [3])])


@model
def shape_chain(path):
    # What exporters emit for x.view(x.size(0), -1).
    return make([
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsqueeze"),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], name="concat",
                         axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape"),
    ], [vi("x", F, ["N", 4, 4])], [vi("y", F, ["N", 16])],
        [init("zero", np.array(0, np.int64)), init("axes0", np.array([0])),
         init("minus1", np.array([-1]))])


@model
def tile(path):
    # x.repeat(1, 2) as PyTorch exports it.
    return make([
        helper.make_node("Tile", ["x", "repeats"], ["y"], name="tile"),
    ], [vi("x", F, ["N", 3])], [vi("y", F, ["N", 6])],
        [init("repeats", np.array([1, 2], np.int64))])


@model
def tile_runtime_repeats(path):
    # The node tests' form: repeats is a graph input, so the output shape
    # is data.
    return make([
        helper.make_node("Tile", ["x", "r"], ["y"], name="tile"),
    ], [vi("x", F, [2, 3]), vi("r", I64, [2])], [vi("y", F, ["A", "B"])])


@model
def opset9_forms(path):
    # Attribute forms later opsets turned into inputs, and opset-9 softmax
    # semantics (flatten at axis 1).
    return make([
        helper.make_node("Softmax", ["x"], ["sm"], name="softmax"),
        helper.make_node("Squeeze", ["sm"], ["sq"], name="squeeze", axes=[1]),
        helper.make_node("Unsqueeze", ["sq"], ["us"], name="unsqueeze",
                         axes=[0]),
        helper.make_node("Clip", ["us"], ["cl"], name="clip", min=-1.0,
                         max=2.0),
        helper.make_node("Slice", ["cl"], ["sl"], name="slice", starts=[0],
                         ends=[2], axes=[3]),
        helper.make_node("Pad", ["sl"], ["pd"], name="pad",
                         pads=[0, 0, 0, 1, 0, 0, 0, 1], value=0.5),
        helper.make_node("ReduceSum", ["pd"], ["rs"], name="reduce",
                         axes=[3], keepdims=0),
        helper.make_node("Dropout", ["rs"], ["y"], name="dropout", ratio=0.3),
    ], [vi("x", F, [2, 1, 3, 4])], [vi("y", F, [1, 2, 3])], opset=9, ir=4)


@model
def opset13_forms(path):
    return make([
        helper.make_node("Squeeze", ["x", "axes1"], ["sq"], name="squeeze"),
        helper.make_node("ReduceSum", ["sq", "axes1"], ["rs"], name="reduce",
                         keepdims=1),
        helper.make_node("Clip", ["rs", "lo", ""], ["cl"], name="clip"),
        helper.make_node("Split", ["cl", "split"], ["a", "b"], name="split",
                         axis=0),
        helper.make_node("Softmax", ["a"], ["y"], name="softmax"),
    ], [vi("x", F, [4, 1, 3])], [vi("y", F, [1, 1]), vi("b", F, [3, 1])],
        [init("axes1", np.array([1])), init("lo", np.array(0.0, np.float32)),
         init("split", np.array([1, 3]))], opset=13)


@model
def opset18_unchanged(path):
    # Opset 18 moved ReduceMean's axes to an input and added Split's
    # num_outputs; both import.
    return make([
        helper.make_node("ReduceMean", ["x", "axes"], ["m"], name="mean",
                         keepdims=0),
        helper.make_node("Split", ["m"], ["a", "b"], name="split", axis=1,
                         num_outputs=2),
        helper.make_node("Add", ["a", "b"], ["y"], name="add"),
    ], [vi("x", F, [2, 3, 4])], [vi("y", F, [2, 2])],
        [init("axes", np.array([1]))], opset=18, ir=9)


@model
def opset18_resize_antialias(path):
    return make([
        helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize",
                         mode="linear", antialias=1),
    ], [vi("x", F, [1, 1, 4, 4])], [vi("y", F, [1, 1, 2, 2])],
        [init("scales", np.array([1, 1, 0.5, 0.5], np.float32))], opset=18,
        ir=9)


@model
def constant_weights(path):
    # Exporters that emit weights as Constant nodes rather than initializers.
    w = helper.make_tensor("w", F, [3, 2], weights(3, 2).flatten())
    return make([
        helper.make_node("Constant", [], ["W"], name="weight", value=w),
        helper.make_node("Constant", [], ["B"], name="bias",
                         value_floats=[0.5, -0.5]),
        helper.make_node("MatMul", ["x", "W"], ["xw"], name="matmul"),
        helper.make_node("Add", ["xw", "B"], ["y"], name="add"),
    ], [vi("x", F, [4, 3])], [vi("y", F, [4, 2])], opset=12, ir=7)


@model
def fp16_initializer(path):
    return make([
        helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul"),
    ], [vi("x", TensorProto.FLOAT16, [2, 3])],
        [vi("y", TensorProto.FLOAT16, [2, 2])],
        [init("w", np.array([[1, 2], [3, 4], [0.5, 65504]], np.float16))])


def _external(path, location, offset=None, length=None, data=None):
    w = weights(2, 3)
    dirname = os.path.dirname(os.path.abspath(path))
    if data is None:
        data = w.tobytes()
    if location and not os.path.isabs(location) and ".." not in location:
        target = os.path.join(dirname, location)
        if not os.path.lexists(target):
            with open(target, "wb") as f:
                f.write(data)
    t = onnx.TensorProto()
    t.name = "w"
    t.data_type = F
    t.dims.extend([2, 3])
    t.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset),
                       ("length", length)):
        if value is not None:
            entry = t.external_data.add()
            entry.key, entry.value = key, str(value)
    return make([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                [vi("x", F, [1, 2])], [vi("y", F, [1, 3])], [t])


@model
def external_data(path):
    return _external(path, "weights.bin", offset=0, length=24)


@model
def external_absolute(path):
    return _external(path, "/etc/passwd")


@model
def external_dotdot(path):
    return _external(path, "../secret.bin")


@model
def external_symlink(path):
    link = os.path.join(os.path.dirname(os.path.abspath(path)), "link.bin")
    if not os.path.lexists(link):
        os.symlink("/etc/hostname", link)
    return _external(path, "link.bin")


@model
def external_missing(path):
    m = _external(path, "weights_gone.bin")
    os.remove(os.path.join(os.path.dirname(os.path.abspath(path)),
                           "weights_gone.bin"))
    return m


@model
def external_short(path):
    return _external(path, "short.bin", offset=16, length=24)


@model
def unsupported_ops(path):
    return make([
        helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk"),
        helper.make_node("Relu", ["v"], ["r"], name="relu"),
        helper.make_node("NonZero", ["r"], ["y"], name="nonzero"),
        helper.make_node("FusedGemm", ["x"], ["z"], name="fused",
                         domain="com.microsoft"),
    ], [vi("x", F, [4])], [vi("y", I64, [1, None]), vi("z", F, [4])],
        [init("k", np.array([2]))], domains=["com.microsoft"])


@model
def computed_operands(path):
    # What exporters emit for masks and position ids: ConstantOfShape of a
    # Shape, a Range over a Size, a causal Trilu and a OneHot whose depth
    # is a constant; all fold to constants once the shapes are known.
    return make([
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("ConstantOfShape", ["s"], ["ones"], name="ones",
                         value=numpy_helper.from_array(
                             np.array([1.0], np.float32))),
        helper.make_node("Trilu", ["ones"], ["causal"], name="causal",
                         upper=0),
        helper.make_node("Size", ["x"], ["n"], name="size"),
        helper.make_node("Range", ["zero", "n", "one"], ["ids"], name="ids"),
        helper.make_node("OneHot", ["labels", "depth", "onoff"], ["hot"],
                         name="onehot", axis=-1),
        helper.make_node("Mul", ["x", "causal"], ["y"], name="mask"),
    ], [vi("x", F, [3, 4]), vi("labels", I64, [3])],
        [vi("y", F, [3, 4]), vi("ids", I64, [12]), vi("hot", F, [3, 5])],
        [init("zero", np.array(0, np.int64)), init("one", np.array(1, np.int64)),
         init("depth", np.array(5, np.int64)),
         init("onoff", np.array([0.0, 1.0], np.float32))])


@model
def decompositions(path):
    # Ops ONNX defines as functions, imported as compositions of mpc ops.
    return make([
        helper.make_node("Elu", ["x"], ["elu"], name="elu", alpha=0.5),
        helper.make_node("Softsign", ["elu"], ["softsign"], name="softsign"),
        helper.make_node("ReduceLogSumExp", ["softsign"], ["lse"], name="lse",
                         axes=[1], keepdims=0),
        helper.make_node("Hardmax", ["x"], ["hard"], name="hardmax", axis=1),
        helper.make_node("DepthToSpace", ["img"], ["space"], name="d2s",
                         blocksize=2, mode="CRD"),
    ], [vi("x", F, [2, 6]), vi("img", F, [1, 8, 2, 3])],
        [vi("lse", F, [2]), vi("hard", F, [2, 6]), vi("space", F, [1, 2, 4, 6])])


@model
def einsum_attention(path):
    # Attention scores as exporters write them with torch.einsum, and a
    # diagonal, which mpc refuses.
    return make([
        helper.make_node("Einsum", ["q", "k"], ["s"], name="scores",
                         equation="bhqd,bhkd->bhqk"),
    ], [vi("q", F, [2, 3, 5, 4]), vi("k", F, [2, 3, 7, 4])],
        [vi("s", F, [2, 3, 5, 7])])


@model
def einsum_diagonal(path):
    return make([
        helper.make_node("Einsum", ["x"], ["d"], name="diag", equation="ii->i"),
    ], [vi("x", F, [3, 3])], [vi("d", F, [3])])


@model
def runtime_depth(path):
    # OneHot's depth from a graph input: the output shape is data.
    return make([
        helper.make_node("OneHot", ["labels", "depth", "onoff"], ["hot"],
                         name="onehot"),
    ], [vi("labels", I64, [3]), vi("depth", I64, [1])],
        [vi("hot", F, [3, None])],
        [init("onoff", np.array([0.0, 1.0], np.float32))])


def _branch(name, node_op, out, shape, **attrs):
    return helper.make_graph(
        [helper.make_node(node_op, ["x"], [out], name=name, **attrs)],
        name, [], [vi(out, F, shape)])


@model
def if_on_shape(path):
    # `if x.dim() == 2` as exporters write it: folds once shapes are known,
    # so only the branch taken is imported.
    return make([
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Size", ["s"], ["rank"], name="rank"),
        helper.make_node("Equal", ["rank", "two"], ["is2d"], name="is2d"),
        helper.make_node("If", ["is2d"], ["y"], name="if",
                         then_branch=_branch("then", "Relu", "t", [2, 3]),
                         else_branch=_branch("else", "Neg", "e", [2, 3])),
    ], [vi("x", F, [2, 3])], [vi("y", F, [2, 3])],
        [init("two", np.array(2, np.int64))])


@model
def if_on_data(path):
    # A second stage above a threshold (openWakeWord's hey_jarvis): the
    # condition is data, so both branches run and the outputs are selected.
    return make([
        helper.make_node("ReduceMax", ["x"], ["m"], name="max", keepdims=0),
        helper.make_node("Greater", ["m", "half"], ["above"], name="above"),
        helper.make_node("If", ["above"], ["y"], name="if",
                         then_branch=_branch("then", "Sigmoid", "t", [2, 3]),
                         else_branch=_branch("else", "Identity", "e", [2, 3])),
    ], [vi("x", F, [2, 3])], [vi("y", F, [2, 3])],
        [init("half", np.array(0.5, np.float32))])


@model
def if_branch_types_differ(path):
    # A data-dependent If whose branches give different shapes cannot be a
    # select.
    then_graph = _branch("then", "ReduceSum", "t", [1, 1], keepdims=1)
    return make([
        helper.make_node("ReduceMax", ["x"], ["m"], name="max", keepdims=0),
        helper.make_node("Greater", ["m", "half"], ["above"], name="above"),
        helper.make_node("If", ["above"], ["y"], name="if",
                         then_branch=then_graph,
                         else_branch=_branch("else", "Identity", "e", [2, 3])),
    ], [vi("x", F, [2, 3])], [vi("y", F, ["A", "B"])],
        [init("half", np.array(0.5, np.float32))])


@model
def if_unsupported_inside(path):
    # Ops inside branches are checked with the rest, before import.
    return make([
        helper.make_node("If", ["c"], ["y"], name="if",
                         then_branch=_branch("then", "Relu", "t", [2]),
                         else_branch=_branch("else", "NonZero", "e", [2])),
    ], [vi("x", F, [2]), vi("c", TensorProto.BOOL, [])], [vi("y", F, [2])])


@model
def bad_attribute(path):
    return make([
        helper.make_node("Conv", ["x", "w"], ["y"], name="conv",
                         auto_pad="SIDEWAYS"),
    ], [vi("x", F, [1, 1, 4, 4])], [vi("y", F, [1, 1, 4, 4])],
        [init("w", weights(1, 1, 3, 3))], opset=20, ir=9)


@model
def mismatched_shapes(path):
    return make([
        helper.make_node("Add", ["x", "z"], ["y"], name="/bad/Add"),
    ], [vi("x", F, [2, 3]), vi("z", F, [4, 5])], [vi("y", F, [2, 3])],
        opset=17)


@model
def pool_ceil_declared(path):
    # The output declared as ONNX's shape inference before 1.16 computes it
    # (3x3: a ceil_mode window wholly in the trailing padding), where
    # onnxruntime and PyTorch produce 2x2.
    return make([
        helper.make_node("MaxPool", ["x"], ["y"], name="/pool/MaxPool",
                         kernel_shape=[2, 2], strides=[2, 2],
                         pads=[0, 0, 1, 1], ceil_mode=1),
    ], [vi("x", F, [1, 1, 4, 4])], [vi("y", F, [1, 1, 3, 3])], opset=17)


@model
def loss_weight_only(path):
    # The model's own loss whose only trainable parameter is the class
    # weight, which has no gradient: nothing can be trained.
    return make([
        helper.make_node("SoftmaxCrossEntropyLoss", ["scores", "labels", "w"],
                         ["loss"], name="sce", reduction="mean"),
    ], [vi("scores", F, [8, 10]), vi("labels", I64, [8])],
        [vi("loss", F, [])], [init("w", weights(10))])


@model
def string_input(path):
    return make([helper.make_node("Identity", ["x"], ["y"], name="id")],
                [vi("x", TensorProto.STRING, [2])],
                [vi("y", TensorProto.STRING, [2])])


@model
def undefined_input(path):
    m = make([helper.make_node("Relu", ["nowhere"], ["y"], name="relu")],
             [vi("x", F, [2])], [vi("y", F, [2])])
    return m


@model
def conv_same_upper(path):
    return make([
        helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv",
                         auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("MaxPool", ["y"], ["p"], name="pool",
                         kernel_shape=[2, 2], auto_pad="SAME_LOWER"),
    ], [vi("x", F, [1, 2, 5, 5])], [vi("p", F, [1, 3, 3, 3])],
        [init("w", weights(3, 2, 3, 3)), init("b", weights(3))], opset=11)


@model
def conv_transpose_output_shape(path):
    return make([
        helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="deconv",
                         strides=[2, 2], output_shape=[10, 8]),
    ], [vi("x", F, [1, 1, 3, 3])], [vi("y", F, [1, 2, 10, 8])],
        [init("w", weights(1, 2, 3, 3))])


@model
def conv3d(path):
    return make([
        helper.make_node("Conv", ["x", "w"], ["y"], name="conv3d",
                         pads=[1, 1, 1, 1, 1, 1]),
    ], [vi("x", F, [1, 1, 4, 4, 4])], [vi("y", F, [1, 2, 4, 4, 4])],
        [init("w", weights(2, 1, 3, 3, 3))])


@model
def maxpool3d(path):
    return make([
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv3d",
                         pads=[1, 1, 1, 1, 1, 1]),
        helper.make_node("MaxPool", ["c"], ["y"], name="pool3d",
                         kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
    ], [vi("x", F, [1, 1, 4, 4, 4])], [vi("y", F, [1, 2, 2, 2, 2])],
        [init("w", weights(2, 1, 3, 3, 3))])


@model
def batchnorm_training(path):
    return make([
        helper.make_node("BatchNormalization",
                         ["x", "scale", "bias", "mean", "var"],
                         ["y", "running_mean", "running_var"], name="bn",
                         training_mode=1, momentum=0.8),
    ], [vi("x", F, [4, 3, 2, 2])],
        [vi("y", F, [4, 3, 2, 2]), vi("running_mean", F, [3]),
         vi("running_var", F, [3])],
        [init("scale", np.ones(3, np.float32)),
         init("bias", np.zeros(3, np.float32)),
         init("mean", np.zeros(3, np.float32)),
         init("var", np.ones(3, np.float32))], opset=15)


@model
def maxpool_indices(path):
    return make([
        helper.make_node("MaxPool", ["x"], ["y", "idx"], name="pool",
                         kernel_shape=[2, 2]),
    ], [vi("x", F, [1, 1, 4, 4])],
        [vi("y", F, [1, 1, 3, 3]), vi("idx", I64, [1, 1, 3, 3])])


@model
def losses(path):
    return make([
        helper.make_node("SoftmaxCrossEntropyLoss", ["scores", "labels"],
                         ["loss", "logp"], name="sce", reduction="mean"),
        helper.make_node("NegativeLogLikelihoodLoss", ["logp", "labels"],
                         ["nll"], name="nll", reduction="sum",
                         ignore_index=-1),
    ], [vi("scores", F, [8, 10]), vi("labels", I64, [8])],
        [vi("loss", F, []), vi("nll", F, [])])


@model
def nll_training(path):
    # F.nll_loss(F.log_softmax(x @ w.T)) as a model's own loss.
    return make([
        helper.make_node("Gemm", ["x", "w"], ["scores"], name="fc", transB=1),
        helper.make_node("LogSoftmax", ["scores"], ["logp"], name="logsoftmax",
                         axis=1),
        helper.make_node("NegativeLogLikelihoodLoss", ["logp", "labels"],
                         ["loss"], name="nll"),
    ], [vi("x", F, [4, 6]), vi("labels", I64, [4])], [vi("loss", F, [])],
        [init("w", weights(3, 6))])


@model
def log_prob_training(path):
    # A model's loss that also reads SoftmaxCrossEntropyLoss's log_prob
    # result (a confidence penalty): no gradient flows through log_prob.
    return make([
        helper.make_node("Gemm", ["x", "w"], ["scores"], name="fc", transB=1),
        helper.make_node("SoftmaxCrossEntropyLoss", ["scores", "labels"],
                         ["ce", "logp"], name="sce"),
        helper.make_node("ReduceMean", ["logp"], ["penalty"], name="penalty",
                         keepdims=0),
        helper.make_node("Add", ["ce", "penalty"], ["loss"], name="total"),
    ], [vi("x", F, [4, 6]), vi("labels", I64, [4])], [vi("loss", F, [])],
        [init("w", weights(3, 6))])


@model
def dynamic_input(path):
    return make([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                [vi("x", F, ["N", "C"])], [vi("y", F, ["N", "C"])])


@model
def unknown_rank_input(path):
    x = onnx.ValueInfoProto()
    x.name = "x"
    x.type.tensor_type.elem_type = F
    # ONNX's checker (IR <= 8) already requires a shape; IR 9 skips it.
    return make([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                [x], [vi("y", F, [2])], opset=18, ir=9)


@model
def opset7_upgrade(path):
    return make([
        helper.make_node("Add", ["x", "x"], ["y"], name="add"),
    ], [vi("x", F, [2])], [vi("y", F, [2])], opset=7, ir=3)


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(sorted(MODELS)))
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in MODELS:
        print(__doc__, file=sys.stderr)
        return 2
    name, path = sys.argv[1:]
    m = MODELS[name](path)
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
