# -*- Python -*-
# lit configuration of the mpc regression suite.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MPC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "__pycache__"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mpc_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%mpc_src", config.mpc_src_root))
config.substitutions.append(
    ("%onnx_models",
     config.python_executable + " " +
     os.path.join(config.mpc_src_root, "test", "Target", "ONNX", "Inputs",
                  "onnx_models.py")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.mpc_tools_dir, config.llvm_tools_dir]
# `lit -Dmemcheck=1` runs every `mpc-opt` of the RUN lines under valgrind's
# memcheck: a use of a rewritten op after it was erased reads freed memory,
# which a normal run survives by chance (a crash one compile in twenty).
memcheck = lit_config.params.get("memcheck")
valgrind = shutil.which("valgrind")
if valgrind:
    config.available_features.add("valgrind")
    config.substitutions.append(
        ("%memcheck", valgrind + " -q --error-exitcode=97 --leak-check=no"))
if memcheck and not valgrind:
    lit_config.fatal("-Dmemcheck needs valgrind")
if memcheck:
    llvm_config.add_tool_substitutions([ToolSubst(
        "mpc-opt", command="%s -q --error-exitcode=97 --leak-check=no %s" % (
            valgrind, os.path.join(config.mpc_tools_dir, "mpc-opt")))],
        tool_dirs)
else:
    llvm_config.add_tool_substitutions(["mpc-opt"], tool_dirs)
config.substitutions.append(
    ("%mpc_opt", os.path.join(config.mpc_tools_dir, "mpc-opt")))
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.mpc_tools_dir, append_path=True)


def python_has(module):
    return subprocess.run(
        [config.python_executable, "-c", "import " + module],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


mlir_runner = os.path.join(config.llvm_tools_dir, "mlir-runner")
if os.path.exists(mlir_runner):
    config.available_features.add("mlir-runner")
config.substitutions.append(("%mlir_runner", mlir_runner))
config.substitutions.append(
    ("%mlir_lib_dir", os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")))

config.substitutions.append(("%mpc_build", config.mpc_obj_root))
config.substitutions.append(
    ("%fake_cuda_driver",
     os.path.join(config.mpc_obj_root, "lib", "libmpc_fake_cuda_driver.so")))
cuda_stub = "/usr/local/cuda/lib64/stubs/libcuda.so"
if os.path.exists(cuda_stub):
    config.available_features.add("cuda-stub")
    config.substitutions.append(("%cuda_stub", cuda_stub))
if python_has("pytest"):
    config.available_features.add("pytest")
# Debian's chromium and graphviz, for the report page in a real browser.
if os.path.exists("/usr/bin/chromium"):
    config.available_features.add("chromium")
if subprocess.run(["sh", "-c", "command -v dot"],
                  stdout=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("graphviz")

# ptxas validates emitted PTX where the CUDA toolkit is installed (not a
# Debian package; /usr/local/cuda on the development machines).
ptxas = shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas"
    if os.access("/usr/local/cuda/bin/ptxas", os.X_OK) else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

if python_has("torch"):
    config.available_features.add("torch")
if python_has("torchvision"):
    config.available_features.add("torchvision")
# The real Fashion-MNIST, Debian's dataset-fashion-mnist.
if os.path.isfile("/usr/share/datasets/fashion-mnist/"
                  "train-images-idx3-ubyte.gz"):
    config.available_features.add("fashion-mnist")
if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
    config.available_features.add("onnx-testdata")

# onnxruntime-node, installed by scripts/reference.sh when npm can reach the
# registry; without it the agreement tests use stored onnxruntime outputs.
ort_node_modules = os.path.join(config.mpc_obj_root, "reference",
                                "node_modules")
config.substitutions.append(("%ort_node_modules", ort_node_modules))
if os.path.isdir(os.path.join(ort_node_modules, "onnxruntime-node")):
    config.available_features.add("onnxruntime")

# The AVX2 code path (--cpu=x86-64-v3) runs where the CPU has AVX2 and FMA;
# with AVX-512 the native build takes the other path, so both are tested.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        cpu_flags = set(cpuinfo.read().split())
except OSError:
    cpu_flags = set()
if {"avx2", "fma"} <= cpu_flags:
    config.available_features.add("avx2")

# openWakeWord's pretrained models (scripts/reference.sh fetches them).
openwakeword = os.path.join(config.mpc_obj_root, "reference", "openwakeword")
config.substitutions.append(("%openwakeword", openwakeword))
if os.path.isfile(os.path.join(openwakeword, "embedding_model.onnx")):
    config.available_features.add("openwakeword")

# PaddleOCR's orientation classifier (scripts/reference.sh fetches it).
paddleocr = os.path.join(config.mpc_obj_root, "reference", "paddleocr")
config.substitutions.append(("%paddleocr", paddleocr))
if os.path.isfile(os.path.join(paddleocr, "ch_ppocr_mobile_v2.0_cls_infer.onnx")):
    config.available_features.add("paddleocr")
if os.path.isfile(os.path.join(paddleocr, "ch_PP-OCRv4_det_infer.onnx")):
    config.available_features.add("paddleocr-v4")

# Silero VAD v5's exports (scripts/reference.sh fetches them).
silero = os.path.join(config.mpc_obj_root, "reference", "silero-vad")
config.substitutions.append(("%silero", silero))
if os.path.isfile(os.path.join(silero, "silero_vad_half.onnx")):
    config.available_features.add("silero-v5")
