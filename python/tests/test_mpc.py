"""The Python package end to end: compile and train from Python, reports,
policies as dicts, errors as exceptions, torch export, the command line,
and installation with pip."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import mpc

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]


# --- finding the tool -------------------------------------------------------

def test_find_tool_prefers_MPC_OPT(monkeypatch):
    real = mpc.find_tool().path
    monkeypatch.setenv("MPC_OPT", real)
    tool = mpc.find_tool()
    assert tool.source == "MPC_OPT" and tool.path == os.path.abspath(real)
    assert str(tool).endswith("(from MPC_OPT)")


def test_find_tool_rejects_a_bad_MPC_OPT(monkeypatch, tmp_path):
    monkeypatch.setenv("MPC_OPT", str(tmp_path / "nope"))
    with pytest.raises(mpc.MpcError, match="MPC_OPT=.*nope is not an executable"):
        mpc.find_tool()


def test_find_tool_falls_back_to_PATH(monkeypatch, tmp_path):
    real = mpc.find_tool().path
    monkeypatch.delenv("MPC_OPT", raising=False)
    monkeypatch.setattr("mpc._tool._build_tree_candidates", lambda: [])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mpc-opt").symlink_to(real)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert mpc.find_tool().source == "PATH"
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(mpc.MpcError, match="mpc-opt not found"):
        mpc.find_tool()


# --- compile and train ------------------------------------------------------

@pytest.fixture(scope="module")
def trained(digits, digits_model):
    program = mpc.compile(digits_model, precision="bf16")
    metrics = program.train(digits["train_images"], digits["train_labels"],
                            val=(digits["val_images"], digits["val_labels"]),
                            epochs=10, batch_size=32, lr=0.01, seed=0)
    return program, metrics


def test_train_the_bundled_example_from_python(trained):
    program, metrics = trained
    assert program.mode == "train" and program.precision == "bf16"
    assert metrics["steps"] == 10 * (1437 // 32)
    assert metrics["val_accuracy"] > 0.9
    assert metrics["train_loss"] < 0.5


def test_train_converts_dtypes_and_errors_name_the_argument(digits_model,
                                                            digits):
    """float64 images and int32 labels are converted as infer() does; a
    binary's error names the argument, not a temporary file."""
    program = mpc.compile(digits_model, precision="fp32")
    metrics = program.train(digits["train_images"].astype(np.float64),
                            digits["train_labels"].astype(np.int32), steps=3)
    assert metrics["steps"] == 3
    labels = digits["train_labels"].copy()
    labels[7] = 12
    with pytest.raises(mpc.MpcError) as error:
        program.train(digits["train_images"], labels, steps=1)
    assert "labels: label 12 at 7 is not a class" in error.value.message
    assert "train_labels.npy" not in error.value.message
    with pytest.raises(mpc.MpcError, match="labels: dtype float32, the "
                                           "program takes int64"):
        program.train(digits["train_images"], labels.astype(np.float32),
                      steps=1)


def test_save_onnx_writes_the_trained_weights(trained, digits,
                                              digits_model, tmp_path):
    program, metrics = trained
    saved = program.save_onnx(tmp_path / "trained.onnx")
    model = onnx.load(str(saved))
    onnx.checker.check_model(model)
    before = {t.name: numpy_helper.to_array(t)
              for t in onnx.load(str(digits_model)).graph.initializer}
    after = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    assert before.keys() == after.keys()
    assert all(not np.array_equal(before[k], after[k]) for k in before)
    # The saved model, compiled for inference, classifies as the binary said
    # (the last of 360 samples in a padded batch of 16).
    infer = mpc.compile(saved, precision="fp32", mode="infer", batch_size=16)
    logits = infer.infer(digits["val_images"])["logits"]
    assert logits.shape == (360, 10)
    accuracy = (logits.argmax(1) == digits["val_labels"]).mean()
    assert accuracy == pytest.approx(metrics["val_accuracy"], abs=1e-6)
    assert infer.inputs == {"image": (np.dtype("float32"), (16, 8, 8))}


def test_data_can_be_npy_paths(digits_model, repo):
    data = repo / "examples" / "mlp_digits" / "data"
    program = mpc.compile(digits_model, precision="fp32", optimizer="sgd",
                          lr=0.1)
    metrics = program.train(data / "train_images.npy",
                            data / "train_labels.npy", steps=5)
    assert metrics["steps"] == 5 and metrics["val_loss"] is None


def test_gradient_accumulation_from_python(digits_model, digits):
    """accumulate= compiles accumulation in; train(accumulate=) overrides
    the compiled K."""
    program = mpc.compile(digits_model, precision="fp32", batch_size=16,
                          accumulate=2)
    assert program.descriptor["optimizer"]["accumulate"] == 2
    metrics = program.train(digits["train_images"], digits["train_labels"],
                            steps=3, accumulate=4)
    assert metrics["accumulate"] == 4 and metrics["samples_per_step"] == 64
    assert metrics["epochs"] == pytest.approx(3 / (1437 // 64))


def test_precision_auto_reports_its_choice(digits_model):
    """precision="auto" on a CPU-only build: fp32 while mpc's CPU kernels
    widen bf16 (issue #19), with the reason from the descriptor."""
    program = mpc.compile(digits_model, precision="auto", mode="infer",
                          batch_size=4)
    assert program.precision == "fp32"
    assert "the CPU (" in program.precision_reason
    assert program.descriptor["precision_choice"]["requested"] == "auto"


def test_misuse_is_an_error(trained, digits, tmp_path, digits_model):
    program, _ = trained
    with pytest.raises(mpc.MpcError, match="exactly one of epochs= and steps="):
        program.train(digits["train_images"], digits["train_labels"])
    with pytest.raises(mpc.MpcError, match="training build"):
        program.infer(digits["val_images"])
    with pytest.raises(mpc.MpcError, match="compiled for batches of 32"):
        program.train(digits["train_images"], digits["train_labels"],
                      steps=1, batch_size=7)
    fresh = mpc.compile(digits_model, precision="fp32")
    with pytest.raises(mpc.MpcError, match="call train\\(\\) before save_onnx"):
        fresh.save_onnx(tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
    with pytest.raises(mpc.MpcError, match="target must be one of cpu, "
                       "cuda, cpu,cuda, got 'tpu'.*--emit=ptx"):
        mpc.compile(digits_model, target="tpu")
    with pytest.raises(mpc.MpcError, match="precision must be one of"):
        mpc.compile(digits_model, precision="int8")


def test_a_cpu_and_cuda_program_runs_where_it_can(digits, digits_model,
                                                  monkeypatch, tmp_path):
    # No GPU here: "auto" trains on the CPU, to the same metrics as a CPU
    # build; device="cuda" is the binary's clear error.
    monkeypatch.setenv("MPC_CUDA_DRIVER", str(tmp_path / "no-libcuda.so"))
    both = mpc.compile(digits_model, precision="bf16", target="cpu,cuda")
    cpu = mpc.compile(digits_model, precision="bf16")
    run = dict(steps=5, batch_size=32, lr=0.01, seed=0)
    assert (both.train(digits["train_images"], digits["train_labels"], **run)
            ["train_loss"] == cpu.train(digits["train_images"],
                                        digits["train_labels"], **run)
            ["train_loss"])
    assert "device: cpu (no usable GPU: no CUDA driver" in both.log
    with pytest.raises(mpc.MpcError, match="no CUDA driver: cannot load"):
        both.train(digits["train_images"], digits["train_labels"],
                   device="cuda", **run)
    infer = mpc.compile(digits_model, precision="bf16", target="cpu,cuda",
                        mode="infer", batch_size=16)
    images = digits["val_images"][:16]
    assert infer.infer(images, device="cpu")["logits"].shape == (16, 10)
    with pytest.raises(mpc.MpcError, match="no CUDA driver"):
        infer.infer(images, device="cuda")


def test_bad_data_reaches_python_as_the_binarys_message(trained, digits):
    program, _ = trained
    bad = digits["train_images"].copy()
    bad[3, 2, 2] = np.nan
    with pytest.raises(mpc.MpcError, match="NaN") as error:
        program.train(bad, digits["train_labels"], steps=1)
    assert error.value.returncode != 0


# --- reports and policies ---------------------------------------------------

def test_report_round_trip_and_autocast_decisions(transformer_model):
    report = mpc.assign(transformer_model, precision="bf16")
    again = mpc.PrecisionReport.from_json(report.to_json())
    assert again == report and again.nodes == report.nodes
    data = json.loads(report.to_json())
    assert len(report.nodes) == len(data["nodes"])
    assert sum(report.summary["ops_by_precision"].values()) == \
        len(report.nodes)
    by_op = {}
    for node in report.nodes:
        by_op.setdefault(node.op, set()).add(node.compute)
    assert by_op["MatMul"] == {"bf16"}
    assert by_op["LayerNormalization"] == {"f32"}
    assert by_op["Softmax"] == {"f32"}
    assert 0.5 < report.summary["low_precision_flop_fraction"] <= 1


def test_policy_as_a_dict_or_a_file(digits_model, tmp_path):
    default = mpc.assign(digits_model)
    assert default.node("/fc1/Gemm").compute == "bf16"
    policy = {"nodes": {"/fc1/Gemm": "fp32"}, "deny": ["Relu"]}
    pinned = mpc.assign(digits_model, policy=policy)
    fc1 = pinned.node("/fc1/Gemm")
    assert fc1.compute == "f32" and "node override" in fc1.reason
    assert pinned.node("/relu/Relu").precision_class == "deny"
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    assert mpc.assign(digits_model, policy=path) == pinned


def test_a_bad_policy_dict_names_itself_not_a_temporary_file(digits_model):
    with pytest.raises(mpc.MpcError) as error:
        mpc.assign(digits_model, policy={"nodes": {"/fc1/Gemm": "int4"}})
    assert "<policy dict>" in error.value.message
    assert "mpc-assign-" not in error.value.message  # the temporary file
    assert "$.nodes./fc1/Gemm" in error.value.message


def test_to_html_draws_every_node(transformer_model, tmp_path):
    report = mpc.assign(transformer_model, precision="fp16")
    page = report.to_html(tmp_path / "report.html").read_text()
    assert "<svg" in page and 'data-mode="graph"' in page
    assert page.count('<g id="op_') == len(report.nodes)
    embedded = page.split('id="mpc-report">')[1].split("</script>")[0]
    assert mpc.PrecisionReport.from_json(embedded) == report


# --- errors -----------------------------------------------------------------

def test_tool_errors_carry_the_node_and_op(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("TopK", ["x", "k"], ["v", "i"], name="top")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("v", TensorProto.FLOAT, [2, 2]),
         helper.make_tensor_value_info("i", TensorProto.INT64, [2, 2])],
        [numpy_helper.from_array(np.array([2], np.int64), "k")])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    out = tmp_path / "never"
    with pytest.raises(mpc.MpcError) as error:
        mpc.compile(model, output=out)
    assert error.value.node == "top" and error.value.op_type == "TopK"
    assert "unsupported operator" in str(error.value)
    assert not out.exists()


def test_missing_rule_and_missing_file(repo, tmp_path):
    # No gradient flows through SoftmaxCrossEntropyLoss's log_prob result.
    logp = tmp_path / "logp.onnx"
    subprocess.run([sys.executable, str(repo / "test" / "Target" / "ONNX" /
                                        "Inputs" / "onnx_models.py"),
                    "log_prob_training", str(logp)], check=True)
    with pytest.raises(mpc.MpcError, match="gradient through the log_prob "
                       "result is not implemented") as error:
        mpc.compile(logp, precision="bf16", loss="model")
    assert error.value.node == "sce"
    assert error.value.op_type == "mpc.softmax_cross_entropy_loss"
    assert error.value.file.endswith("logp.onnx")
    with pytest.raises(mpc.MpcError, match="no such model file"):
        mpc.compile(tmp_path / "absent.onnx")


# --- PyTorch ----------------------------------------------------------------

def test_from_torch_without_torch(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch fails
    with pytest.raises(mpc.MpcError, match="needs PyTorch.*python3-torch"):
        mpc.from_torch(object(), (), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_from_torch_exports_a_trainable_model(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 3))
    path = mpc.from_torch(module, torch.zeros(2, 4), tmp_path / "m.onnx")
    x = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    program = mpc.compile(path, precision="bf16", batch_size=16)
    first = program.train(x, y, steps=1, lr=0.01)
    last = program.train(x, y, epochs=40, lr=0.01)
    assert last["train_loss"] < first["train_loss"]
    # Same outputs as PyTorch before training (inference build).
    infer = mpc.compile(path, precision="fp32", mode="infer", batch_size=16)
    want = module(torch.from_numpy(x)).detach().numpy()
    got = infer.infer(x)["output"]
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_from_torch_training_export_keeps_every_parameter(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    # Two fresh LayerNorms have equal weights and biases, which an
    # eval-mode export merges into one initializer; BatchNorm and Dropout
    # keep their training forms.
    module = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 8),
        torch.nn.LayerNorm(8), torch.nn.Dropout(0.1), torch.nn.Linear(8, 8),
        torch.nn.LayerNorm(8), torch.nn.Linear(8, 3))
    module.eval()
    path = mpc.from_torch(module, torch.zeros(2, 1, 4, 4), tmp_path / "m.onnx")
    assert not module.training  # the module's mode is left as it was
    model = onnx.load(str(path))
    ops = {n.op_type: n for n in model.graph.node}
    bn = {a.name: a.i for a in ops["BatchNormalization"].attribute}
    assert bn.get("training_mode") == 1
    assert "Dropout" in ops
    program = mpc.compile(path, precision="bf16", batch_size=2)
    trained = sum(int(np.prod(shape)) for shape in program.parameters.values())
    assert trained == sum(p.numel() for p in module.parameters())
    step = program.descriptor["functions"]["train_step"]
    stats = [v["name"] for v in step["arguments"] if v.get("kind") == "stat"]
    assert len(stats) == 2  # BatchNorm's running mean and variance
    # For inference, the eval-mode export.
    module.train()
    infer_path = mpc.from_torch(module, torch.zeros(2, 1, 4, 4),
                                tmp_path / "i.onnx", training=False)
    assert module.training
    assert "Dropout" not in {n.op_type for n in onnx.load(str(infer_path))
                             .graph.node}


# --- command line -----------------------------------------------------------

def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    return subprocess.run([sys.executable, "-m", "mpc", *map(str, args)],
                          capture_output=True, text=True, env=env)


def test_cli_mirrors_mpc_opt(digits_model, tmp_path):
    which = run_cli("--which")
    assert which.returncode == 0 and "(from " in which.stdout
    table = run_cli(digits_model, "--precision", "bf16", "--precision-report",
                    "-", "-o", os.devnull)
    assert table.returncode == 0, table.stderr
    assert "/fc1/Gemm" in table.stdout and "allow (default list)" in table.stdout
    exe = tmp_path / "train_model"
    built = run_cli(digits_model, "--precision", "fp16", "--optimizer", "sgd",
                    "-v", "-o", exe)
    assert built.returncode == 0, built.stderr
    assert "mpc: using mpc-opt" in built.stderr
    assert "Trains the compiled model (fp16, sgd" in subprocess.run(
        [exe, "--help"], capture_output=True, text=True).stdout
    ptx = tmp_path / "kernels.ptx"
    gpu = run_cli(digits_model, "--precision", "bf16", "--target", "cuda",
                  "--gpu-arch", "sm_90", "--emit", "ptx", "--mode", "infer",
                  "--input-shape", "image:16x8x8", "-o", ptx)
    assert gpu.returncode == 0, gpu.stderr
    text = ptx.read_text()
    assert ".target sm_90" in text and "mma.sync.aligned" in text
    both = run_cli(digits_model, "--target", "cpu,cuda", "-o",
                   tmp_path / "both")
    assert both.returncode == 0, both.stderr
    failed = run_cli(tmp_path / "absent.onnx", "-o", tmp_path / "x")
    assert failed.returncode != 0 and "absent.onnx" in failed.stderr


# --- installation -----------------------------------------------------------

def test_pip_install_without_network(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                    venv], check=True)
    pip = subprocess.run([venv / "bin" / "python", "-m", "pip", "install",
                          "--no-index", "--quiet", PYTHON_DIR],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    env = {k: v for k, v in os.environ.items()
           if k not in ("MPC_OPT", "PYTHONPATH")}
    probe = subprocess.run(
        [venv / "bin" / "python", "-c",
         "import mpc; print(mpc.__file__); print(mpc.find_tool().source)"],
        capture_output=True, text=True, cwd=tmp_path, env=env)
    assert probe.returncode == 0, probe.stderr
    where, source = probe.stdout.splitlines()
    assert where.startswith(str(venv))
    assert source == "build tree"  # recorded in the wheel
    script = subprocess.run([venv / "bin" / "mpc", "--which"],
                            capture_output=True, text=True, env=env)
    assert script.returncode == 0 and "(from build tree)" in script.stdout


def test_hostile_tensor_names_stay_in_their_directories(tmp_path):
    # Names are the model's (untrusted): outputs come back under their own
    # names, and nothing lands outside the program's directories.
    names = ["a/b:0", "../../escaped", ".."]
    graph = helper.make_graph(
        [helper.make_node("Relu", ["../in"], [n], name="relu%d" % i)
         for i, n in enumerate(names)], "hostile",
        [helper.make_tensor_value_info("../in", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3])
         for n in names])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    program = mpc.compile(model, precision="fp32", mode="infer",
                          output=tmp_path / "run")
    x = np.arange(-3, 3, dtype=np.float32).reshape(2, 3)
    before = set(os.listdir(tmp_path))
    assert list(program.inputs) == ["../in"]
    out = program.infer(**{"../in": x})
    assert sorted(out) == sorted(names)
    assert all(np.array_equal(out[n], np.maximum(x, 0)) for n in names)
    assert set(os.listdir(tmp_path)) == before
    assert mpc._program.output_file_name("a/b:0") == "a%2Fb%3A0.npy"
    assert mpc._program.output_file_name("..") == "%2E..npy"
