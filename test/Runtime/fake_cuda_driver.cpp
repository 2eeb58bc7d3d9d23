//===- fake_cuda_driver.cpp - a CUDA driver without a GPU, for tests ------===//
//
// Loaded by mpc programs through MPC_CUDA_DRIVER in place of libcuda.so.1.
// Device memory is host memory (zeroed), copies are memcpy, and kernels do
// not run; what it checks is the contract between the host code mpc
// generates and the PTX it embeds:
//   - the module loaded is PTX (.version/.target), loaded once;
//   - every kernel looked up is an .entry of that PTX;
//   - every launch passes its parameter array and a block of at most 1024
//     threads with no zero dimension;
//   - all launches go to the one stream the program created;
//   - device memory is allocated once (the arena).
// A violation makes the call fail (the program must report it); the
// counts are written to $MPC_FAKE_CUDA_LOG at exit, one `key value` per
// line.
//
// Failures on request, for the runtime's error paths:
//   FAKE_CUDA_DEVICES=0       a driver with no device;
//   FAKE_CUDA_CC=7            a device of compute capability 7.0;
//   FAKE_CUDA_REJECT_IMAGE=1  the JIT rejects the module (with a log);
//   FAKE_CUDA_FAIL_LAUNCH=N   the Nth launch fails.
//
//===----------------------------------------------------------------------===//

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>

namespace {

using CUresult = int;
constexpr CUresult kSuccess = 0, kInvalidValue = 1, kNoDevice = 100,
                   kInvalidImage = 200, kNotFound = 500,
                   kInvalidHandle = 400, kLaunchOutOfResources = 701;

struct Module {
  std::map<std::string, int> entryParams;
};

struct Log {
  long moduleLoads = 0, launches = 0, allocations = 0, bytesAllocated = 0,
       uploads = 0, downloads = 0, deviceCopies = 0, synchronizations = 0,
       violations = 0;
  std::set<std::string> kernelsLaunched;
  std::set<void *> streams;
  ~Log() {
    const char *path = std::getenv("MPC_FAKE_CUDA_LOG");
    if (!path)
      return;
    FILE *f = std::fopen(path, "w");
    if (!f)
      return;
    std::fprintf(f,
                 "module_loads %ld\nlaunches %ld\ndistinct_kernels %zu\n"
                 "allocations %ld\nbytes_allocated %ld\nuploads %ld\n"
                 "downloads %ld\ndevice_copies %ld\nsynchronizations %ld\n"
                 "streams %zu\nviolations %ld\n",
                 moduleLoads, launches, kernelsLaunched.size(), allocations,
                 bytesAllocated, uploads, downloads, deviceCopies,
                 synchronizations, streams.size(), violations);
    std::fclose(f);
  }
};

Log log;
std::map<void *, std::string> functionNames; // CUfunction -> entry name
std::map<void *, int> functionParams;
int streamToken;

long envNumber(const char *name, long otherwise) {
  const char *value = std::getenv(name);
  return value ? std::atol(value) : otherwise;
}

CUresult violation(const std::string &what) {
  std::fprintf(stderr, "fake CUDA driver: %s\n", what.c_str());
  ++log.violations;
  return kInvalidValue;
}

/// The .entry names of a PTX module and how many .param each declares.
bool parsePTX(const char *ptx, Module &module) {
  std::string text(ptx);
  if (text.find(".version") == std::string::npos ||
      text.find(".target sm_") == std::string::npos)
    return false;
  for (size_t at = text.find(".entry "); at != std::string::npos;
       at = text.find(".entry ", at + 1)) {
    size_t nameStart = at + 7;
    size_t open = text.find('(', nameStart);
    size_t close = text.find(')', open);
    if (open == std::string::npos || close == std::string::npos)
      return false;
    std::string name = text.substr(nameStart, open - nameStart);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\n'))
      name.pop_back();
    int params = 0;
    for (size_t p = text.find(".param", open); p != std::string::npos && p < close;
         p = text.find(".param", p + 1))
      ++params;
    module.entryParams[name] = params;
  }
  return !module.entryParams.empty();
}

} // namespace

extern "C" {

CUresult cuGetErrorName(CUresult error, const char **name) {
  static std::map<int, std::string> names = {
      {kInvalidValue, "CUDA_ERROR_INVALID_VALUE"},
      {kNoDevice, "CUDA_ERROR_NO_DEVICE"},
      {kInvalidImage, "CUDA_ERROR_INVALID_IMAGE"},
      {kNotFound, "CUDA_ERROR_NOT_FOUND"},
      {kInvalidHandle, "CUDA_ERROR_INVALID_HANDLE"},
      {kLaunchOutOfResources, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"}};
  auto it = names.find(error);
  *name = it == names.end() ? "CUDA_ERROR_UNKNOWN" : it->second.c_str();
  return kSuccess;
}

CUresult cuInit(unsigned) {
  const char *devices = std::getenv("FAKE_CUDA_DEVICES");
  return devices && std::atoi(devices) == 0 ? kNoDevice : kSuccess;
}
CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return kSuccess;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? kSuccess : kInvalidValue;
}
CUresult cuDeviceGetName(char *name, int length, int) {
  std::snprintf(name, length, "fake GPU");
  return kSuccess;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int) {
  // Compute capability major (75) and minor (76).
  *value = attribute == 75 ? int(envNumber("FAKE_CUDA_CC", 8)) : 0;
  return kSuccess;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int) {
  *bytes = size_t(1) << 30;
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRetain(void **context, int) {
  *context = &streamToken;
  return kSuccess;
}
CUresult cuCtxSetCurrent(void *) { return kSuccess; }
CUresult cuStreamCreate(void **stream, unsigned) {
  *stream = new int;
  log.streams.insert(*stream);
  return kSuccess;
}
CUresult cuStreamSynchronize(void *) {
  ++log.synchronizations;
  return kSuccess;
}
CUresult cuMemAlloc_v2(unsigned long long *pointer, size_t bytes) {
  ++log.allocations;
  log.bytesAllocated += bytes;
  *pointer = reinterpret_cast<unsigned long long>(std::calloc(bytes, 1));
  return kSuccess;
}
CUresult cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src,
                              size_t bytes, void *) {
  ++log.uploads;
  std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  return kSuccess;
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t bytes,
                              void *) {
  ++log.downloads;
  std::memcpy(dst, reinterpret_cast<void *>(src), bytes);
  return kSuccess;
}
CUresult cuMemcpyAsync(unsigned long long dst, unsigned long long src,
                       size_t bytes, void *) {
  ++log.deviceCopies;
  std::memcpy(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src),
              bytes);
  return kSuccess;
}
CUresult cuModuleLoadDataEx(void **module, const void *image,
                            unsigned numOptions, int *options, void **values) {
  if (envNumber("FAKE_CUDA_REJECT_IMAGE", 0)) {
    // Option 5 is CU_JIT_ERROR_LOG_BUFFER.
    for (unsigned i = 0; i < numOptions; ++i)
      if (options[i] == 5)
        std::snprintf(static_cast<char *>(values[i]), 64,
                      "ptxas fatal   : fake rejection");
    return kInvalidImage;
  }
  auto *m = new Module;
  if (!parsePTX(static_cast<const char *>(image), *m)) {
    delete m;
    return violation("the module image is not PTX with kernels") ,
           kInvalidImage;
  }
  ++log.moduleLoads;
  *module = m;
  return kSuccess;
}
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  auto *m = static_cast<Module *>(module);
  auto it = m->entryParams.find(name);
  if (it == m->entryParams.end()) {
    violation(std::string("no kernel ") + name + " in the PTX");
    return kNotFound;
  }
  *function = const_cast<std::string *>(&it->first);
  functionNames[*function] = name;
  functionParams[*function] = it->second;
  return kSuccess;
}
CUresult cuModuleUnload(void *module) {
  delete static_cast<Module *>(module);
  return kSuccess;
}
CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned,
                        void *stream, void **params, void **extra) {
  auto name = functionNames.find(function);
  if (name == functionNames.end())
    return violation("launch of an unknown function"), kInvalidHandle;
  if (!log.streams.count(stream))
    return violation("launch of " + name->second +
                     " on a stream the program did not create"),
           kInvalidHandle;
  if (log.launches + 1 == envNumber("FAKE_CUDA_FAIL_LAUNCH", 0))
    return kLaunchOutOfResources;
  if (!gx || !gy || !gz || !bx || !by || !bz)
    return violation("launch of " + name->second + " with a zero dimension"),
           kInvalidValue;
  if (static_cast<unsigned long>(bx) * by * bz > 1024)
    return violation("launch of " + name->second + " with more than 1024 "
                     "threads per block"),
           kLaunchOutOfResources;
  // The parameter array's length is not passed to the driver; the mpc
  // runtime checks it against the PTX before launching. Here: no extra
  // options, and the array is there.
  if (extra || (functionParams[function] && !params))
    return violation("launch of " + name->second +
                     " without its parameter array"),
           kInvalidValue;
  ++log.launches;
  log.kernelsLaunched.insert(name->second);
  return kSuccess;
}

} // extern "C"
