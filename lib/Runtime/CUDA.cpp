//===- CUDA.cpp - the CUDA driver, loaded at run time ---------------------===//
//
// No CUDA header or library is needed to build or link this file: the few
// driver entry points used are declared here and resolved with dlsym from
// the library dlopen finds (libcuda.so.1, or $MPC_CUDA_DRIVER).
//
//===----------------------------------------------------------------------===//

#include "mpc/Runtime/CUDA.h"
#include "mpc/Runtime/Runtime.h"
#include "StateSlots.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <string>
#include <string_view>

namespace {

// The driver API's types, as its ABI defines them.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr int CU_STREAM_NON_BLOCKING = 1;

/// The driver entry points mpc uses, resolved once.
struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuGetErrorName)(CUresult, const char **);
};

/// A kernel module of the program: its PTX, loaded on first use (the
/// program registers it from a static constructor, before main has chosen
/// a device).
struct Module {
  const char *ptx = nullptr;
  CUmodule loaded = nullptr;
  std::map<std::string, CUfunction> functions;
  /// Each entry's declared parameter count, read from the PTX once.
  std::map<std::string, int, std::less<>> parameters;
};

/// The .entry declarations of a PTX module and their parameter counts.
std::map<std::string, int, std::less<>> declaredParameters(std::string_view text) {
  std::map<std::string, int, std::less<>> entries;
  for (size_t at = text.find(".entry "); at != std::string_view::npos;
       at = text.find(".entry ", at + 1)) {
    size_t open = text.find('(', at), close = text.find(')', open);
    if (open == std::string_view::npos || close == std::string_view::npos)
      break;
    int count = 0;
    for (size_t p = text.find(".param", open); p < close;
         p = text.find(".param", p + 1))
      ++count;
    entries[std::string(text.substr(at + 7, open - at - 7))] = count;
  }
  return entries;
}

/// Each kernel's declared parameter count: the host code's launches must
/// pass exactly that many (the driver cannot tell).
std::map<CUfunction, std::pair<std::string, int>> &kernelSignatures() {
  static std::map<CUfunction, std::pair<std::string, int>> signatures;
  return signatures;
}

struct State {
  void *library = nullptr;
  Driver driver{};
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  CUdeviceptr arena = 0;
  uint64_t arenaBytes = 0, arenaUsed = 0;
  /// The state region sits above the scratch part of the arena.
  uint64_t stateBytes = 0;
  mpc::runtime::StateSlots slots;
  std::string programName = "mpc program";
};

State &state() {
  static State s;
  return s;
}

std::string errorName(CUresult result) {
  const char *name = nullptr;
  if (state().driver.cuGetErrorName &&
      state().driver.cuGetErrorName(result, &name) == CUDA_SUCCESS && name)
    return name;
  return "CUDA error " + std::to_string(result);
}

/// Throws runtime::Error for a failed driver call during set-up.
void check(CUresult result, const std::string &what) {
  if (result != CUDA_SUCCESS)
    throw mpc::runtime::Error("CUDA: " + what + " failed: " +
                              errorName(result));
}

/// A failed driver call inside a compiled function: the generated code
/// cannot unwind, so the process ends here with the reason.
void checkOrExit(CUresult result, const std::string &what) {
  if (result == CUDA_SUCCESS)
    return;
  std::fprintf(stderr, "%s: error: CUDA: %s failed: %s\n",
               state().programName.c_str(), what.c_str(),
               errorName(result).c_str());
  std::exit(1);
}

[[noreturn]] void fatal(const std::string &message) {
  std::fprintf(stderr, "%s: error: CUDA: %s\n", state().programName.c_str(),
               message.c_str());
  std::exit(1);
}

void loadDriver() {
  State &s = state();
  const char *override = std::getenv("MPC_CUDA_DRIVER");
  std::string path = override && *override ? override : "libcuda.so.1";
  s.library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!s.library) {
    const char *why = dlerror();
    throw mpc::runtime::Error(
        "no CUDA driver: cannot load " + path + " (" +
        (why ? why : "not found") +
        "); install the NVIDIA driver, or run on the CPU with --device cpu");
  }
  auto resolve = [&](auto &slot, const char *name) {
    void *symbol = dlsym(s.library, name);
    if (!symbol)
      throw mpc::runtime::Error(path + " lacks " + name +
                                ": not a CUDA driver, or one too old; run "
                                "on the CPU with --device cpu");
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
  };
  Driver &d = s.driver;
  resolve(d.cuGetErrorName, "cuGetErrorName");
  resolve(d.cuInit, "cuInit");
  resolve(d.cuDeviceGetCount, "cuDeviceGetCount");
  resolve(d.cuDeviceGet, "cuDeviceGet");
  resolve(d.cuDeviceGetName, "cuDeviceGetName");
  resolve(d.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  resolve(d.cuDeviceTotalMem, "cuDeviceTotalMem_v2");
  resolve(d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  resolve(d.cuCtxSetCurrent, "cuCtxSetCurrent");
  resolve(d.cuStreamCreate, "cuStreamCreate");
  resolve(d.cuStreamSynchronize, "cuStreamSynchronize");
  resolve(d.cuMemAlloc, "cuMemAlloc_v2");
  resolve(d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  resolve(d.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  resolve(d.cuMemcpyAsync, "cuMemcpyAsync");
  resolve(d.cuModuleLoadDataEx, "cuModuleLoadDataEx");
  resolve(d.cuModuleGetFunction, "cuModuleGetFunction");
  resolve(d.cuModuleUnload, "cuModuleUnload");
  resolve(d.cuLaunchKernel, "cuLaunchKernel");
}

using mpc::runtime::cuda::kArenaGranule;

uint64_t alignUp(uint64_t n) {
  return (n + kArenaGranule - 1) / kArenaGranule * kArenaGranule;
}

CUdeviceptr carve(uint64_t bytes) {
  State &s = state();
  uint64_t size = alignUp(std::max<uint64_t>(bytes, 1));
  if (s.arenaUsed + size > s.arenaBytes)
    fatal("the device arena (" + std::to_string(s.arenaBytes) +
          " bytes, from the compiler's buffer plan) is exhausted by a buffer "
          "of " + std::to_string(bytes) + " bytes; this is a compiler bug");
  CUdeviceptr at = s.arena + s.arenaUsed;
  s.arenaUsed += size;
  return at;
}

} // namespace

namespace mpc {
namespace runtime {
namespace cuda {

std::string initialize(uint64_t scratchBytes, uint64_t stateBytes,
                       const std::map<std::string, uint64_t> &stateOffsets,
                       const std::string &programName) {
  State &s = state();
  if (s.stream)
    throw Error("CUDA: initialised twice");
  s.programName = programName;
  loadDriver();
  Driver &d = s.driver;
  CUresult init = d.cuInit(0);
  if (init == 34 /* CUDA_ERROR_STUB_LIBRARY */)
    throw Error("no CUDA driver: " +
                std::string(std::getenv("MPC_CUDA_DRIVER")
                                ? std::getenv("MPC_CUDA_DRIVER")
                                : "libcuda.so.1") +
                " is the CUDA toolkit's stub library, not a driver "
                "(CUDA_ERROR_STUB_LIBRARY); run on the CPU with --device cpu");
  if (init == 100 /* CUDA_ERROR_NO_DEVICE */)
    throw Error("no CUDA device (CUDA_ERROR_NO_DEVICE); run on the CPU with "
                "--device cpu");
  check(init, "cuInit");
  int count = 0;
  check(d.cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (count == 0)
    throw Error("no CUDA device; run on the CPU with --device cpu");
  CUdevice device = 0;
  check(d.cuDeviceGet(&device, 0), "cuDeviceGet");
  char name[256] = {};
  check(d.cuDeviceGetName(name, sizeof(name) - 1, device), "cuDeviceGetName");
  int major = 0, minor = 0;
  check(d.cuDeviceGetAttribute(
            &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
        "cuDeviceGetAttribute");
  check(d.cuDeviceGetAttribute(
            &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
        "cuDeviceGetAttribute");
  if (major < 8)
    throw Error("CUDA device 0 (" + std::string(name) + ") has compute "
                "capability " + std::to_string(major) + "." +
                std::to_string(minor) + "; mpc's kernels need sm_80 or newer "
                "(bf16 tensor cores); run on the CPU with --device cpu");
  size_t memory = 0;
  check(d.cuDeviceTotalMem(&memory, device), "cuDeviceTotalMem");
  check(d.cuDevicePrimaryCtxRetain(&s.context, device),
        "cuDevicePrimaryCtxRetain");
  check(d.cuCtxSetCurrent(s.context), "cuCtxSetCurrent");
  check(d.cuStreamCreate(&s.stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  s.arenaBytes = alignUp(std::max<uint64_t>(scratchBytes, 1));
  s.stateBytes = alignUp(stateBytes);
  CUresult alloc = d.cuMemAlloc(&s.arena, s.arenaBytes + s.stateBytes);
  if (alloc != CUDA_SUCCESS)
    throw Error("CUDA: cannot reserve the device arena of " +
                std::to_string(s.arenaBytes + s.stateBytes) + " bytes on " +
                name +
                " (" + std::to_string(memory >> 20) +
                " MiB): " + errorName(alloc));
  s.slots.configure(
      "CUDA", s.stateBytes, stateOffsets,
      [&s](uint64_t offset, const void *host, uint64_t bytes) {
        check(s.driver.cuMemcpyHtoDAsync(s.arena + s.arenaBytes + offset, host,
                                         bytes, s.stream),
              "cuMemcpyHtoDAsync");
      },
      [&s](void *host, uint64_t offset, uint64_t bytes) {
        check(s.driver.cuMemcpyDtoHAsync(host, s.arena + s.arenaBytes + offset,
                                         bytes, s.stream),
              "cuMemcpyDtoHAsync");
        check(s.driver.cuStreamSynchronize(s.stream), "cuStreamSynchronize");
      });
  return std::string(name) + " (sm_" + std::to_string(major) +
         std::to_string(minor) + ", " + std::to_string(memory >> 20) +
         " MiB), arena " + std::to_string(s.arenaBytes) + " + " +
         std::to_string(s.stateBytes) + " bytes (buffers + state)";
}

bool initialized() { return state().stream != nullptr; }

void beginCall() {
  if (!initialized())
    throw Error("CUDA: a CUDA function was called before the device was "
                "initialised");
  state().arenaUsed = 0;
}

void *upload(const void *host, uint64_t bytes) {
  State &s = state();
  CUdeviceptr at = carve(bytes);
  check(s.driver.cuMemcpyHtoDAsync(at, host, bytes, s.stream),
        "cuMemcpyHtoDAsync");
  return reinterpret_cast<void *>(at);
}

void download(void *host, const void *device, uint64_t bytes) {
  State &s = state();
  check(s.driver.cuMemcpyDtoHAsync(host, reinterpret_cast<CUdeviceptr>(device),
                                   bytes, s.stream),
        "cuMemcpyDtoHAsync");
}

void endCall() {
  State &s = state();
  check(s.driver.cuStreamSynchronize(s.stream),
        "cuStreamSynchronize (a kernel of this call failed)");
}

void *stateRegion() {
  State &s = state();
  return reinterpret_cast<void *>(s.arena + s.arenaBytes);
}

void stateInput(const std::string &name, const Array &host) {
  state().slots.input(name, host);
}

void stateOutput(const std::string &name, const Array &host) {
  state().slots.output(name, host);
}

void fetch(Array &host) { state().slots.fetch(host); }

void stateReplaced() { state().slots.forgetHostArrays(); }

void releaseResult(void *) {}

} // namespace cuda
} // namespace runtime
} // namespace mpc

//===----------------------------------------------------------------------===//
// MLIR's GPU runtime ABI, as gpu-to-llvm and the gpu.binary translation
// call it
//===----------------------------------------------------------------------===//

extern "C" {

/// Called from a static constructor with the embedded PTX: remembered, and
/// loaded when a kernel of it is first needed (the device may never be).
void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  auto *module = new Module;
  module->ptx = static_cast<const char *>(data);
  return module;
}

void *mgpuModuleLoad(void *data, size_t /*size*/) {
  return mgpuModuleLoadJIT(data, 2);
}

void mgpuModuleUnload(void *handle) {
  auto *module = static_cast<Module *>(handle);
  if (module->loaded && state().driver.cuModuleUnload)
    state().driver.cuModuleUnload(module->loaded);
  delete module;
}

void *mgpuModuleGetFunction(void *handle, const char *name) {
  State &s = state();
  if (!s.stream)
    fatal("kernel " + std::string(name) +
          " needed before the device was initialised");
  auto *module = static_cast<Module *>(handle);
  if (!module->loaded) {
    // The driver JIT-compiles the PTX for the device; its log says why
    // when it cannot.
    char log[8192] = {};
    int options[] = {CU_JIT_ERROR_LOG_BUFFER,
                     CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1)};
    CUresult loaded = s.driver.cuModuleLoadDataEx(&module->loaded, module->ptx,
                                                  2, options, values);
    if (loaded != CUDA_SUCCESS)
      fatal("loading the program's PTX failed: " + errorName(loaded) +
            (log[0] ? std::string("\n") + log : std::string()));
    module->parameters = declaredParameters(module->ptx);
  }
  auto [it, inserted] = module->functions.try_emplace(name, nullptr);
  if (inserted) {
    checkOrExit(s.driver.cuModuleGetFunction(&it->second, module->loaded, name),
                std::string("cuModuleGetFunction(") + name + ")");
    auto declared = module->parameters.find(name);
    kernelSignatures()[it->second] = {
        name, declared == module->parameters.end() ? -1 : declared->second};
  }
  return it->second;
}

/// Every launch goes to the one stream.
void *mgpuStreamCreate() { return state().stream; }

void mgpuStreamDestroy(void *) {}

/// The lowered host code synchronises after each launch; it never reads
/// device memory itself (mpc-gpu-check-host-loops rejects host accesses),
/// so the wait is left to the entry point's download of the results, and
/// launches queue on the stream back to back.
void mgpuStreamSynchronize(void *) {}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  auto signature = kernelSignatures().find(function);
  if (signature == kernelSignatures().end() ||
      signature->second.second != static_cast<int>(paramsCount))
    fatal("the host code launches " +
          (signature == kernelSignatures().end() ? std::string("an unknown kernel")
                                                 : signature->second.first) +
          " with " + std::to_string(paramsCount) +
          " parameters; its PTX declares " +
          std::to_string(signature == kernelSignatures().end()
                             ? -1
                             : signature->second.second) +
          "; this is a compiler bug");
  checkOrExit(state().driver.cuLaunchKernel(
                  function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                  sharedBytes, stream, params, extra),
              "cuLaunchKernel");
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  checkOrExit(state().driver.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                                           reinterpret_cast<CUdeviceptr>(src),
                                           bytes, stream),
              "cuMemcpyAsync");
}

/// The CUDA build's buffers (finalize-memref-to-llvm with generic
/// allocation functions): carved from the arena, released with it.
void *_mlir_memref_to_llvm_alloc(size_t bytes) {
  return reinterpret_cast<void *>(carve(bytes));
}

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t bytes) {
  if (alignment > kArenaGranule)
    fatal("a buffer asks for " + std::to_string(alignment) +
          "-byte alignment; the arena gives " + std::to_string(kArenaGranule));
  return reinterpret_cast<void *>(carve(bytes));
}

void _mlir_memref_to_llvm_free(void *) {}

} // extern "C"
