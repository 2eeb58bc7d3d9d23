//===- CUDA.h - the CUDA side of mpc-compiled programs ----------*- C++ -*-===//
//
// Programs compiled with --target=cuda (or cpu,cuda) run their kernels
// through the CUDA driver API, which this runtime loads with dlopen when
// the GPU is selected: the binary links and starts on machines without
// CUDA. One context on device 0, one stream, and one device arena sized by
// the compiler's buffer plan: every buffer of a call (its uploaded inputs
// and everything it allocates) is carved from the arena, which is reset
// at the start of the next call, so no device allocation happens per step.
//
// The lowered host code calls the `mgpu*` functions of MLIR's GPU runtime
// ABI (gpu-to-llvm) and `_mlir_memref_to_llvm_alloc` for its buffers; both
// are implemented here over the arena and the one stream.
//
// MPC_CUDA_DRIVER names the driver library to load instead of
// libcuda.so.1 (tests use it to point at a missing file, the toolkit's
// stub, or a recording fake).
//
//===----------------------------------------------------------------------===//

#ifndef MPC_RUNTIME_CUDA_H
#define MPC_RUNTIME_CUDA_H

#include "mpc/ABI/ProgramABI.h"
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace mpc {
namespace runtime {
struct Array;
namespace cuda {

/// Every arena buffer starts on this boundary and takes a multiple of it
/// (what cuMemAlloc gives, and what vectorised and MMA loads need); the
/// compiler's buffer plan counts in the same granules.
inline constexpr uint64_t kArenaGranule = mpc_abi::kArenaGranuleBytes;

/// Loads the driver, picks device 0, creates the context and the stream
/// and reserves one arena: `scratchBytes` for the buffers of a call and
/// `stateBytes` for the training state, which stays on the device between
/// calls, each slot at its offset in `stateOffsets` (the compiler's
/// layout: a slot kind's slots end to end, which its kernels update as
/// one flat buffer). Throws runtime::Error saying what is missing (no driver library,
/// the stub library, no device, out of memory). Returns a description of
/// the device. Errors met later, inside compiled code that cannot unwind,
/// end the process with a message naming `programName`.
std::string initialize(uint64_t scratchBytes, uint64_t stateBytes,
                       const std::map<std::string, uint64_t> &stateOffsets,
                       const std::string &programName);

/// Whether initialize() succeeded.
bool initialized();

/// Starts a call of a compiled function: its buffers reuse the arena.
void beginCall();

/// Copies `bytes` from the host into a new arena buffer.
void *upload(const void *host, uint64_t bytes);

/// Queues a copy of `bytes` of device memory to the host behind the
/// call's kernels; the data is there after endCall().
void download(void *host, const void *device, uint64_t bytes);

/// Ends a call: waits for its kernels and downloads (the one host
/// synchronisation of a call).
void endCall();

/// The device address of the training state: compiled functions take
/// each kind of state as a flat buffer at its offset from here.
void *stateRegion();
/// Training state (weights, optimizer moments, the loss scale, the step)
/// lives in device slots named after it, across calls, which the kernels
/// read and update in place. A state input is already in its slot when
/// `host` is the array the slot last produced or received (no copy), else
/// `host` is uploaded into the slot.
void stateInput(const std::string &name, const Array &host);

/// A state result, which the call's kernels wrote into its slot: `host`
/// gets its shape but not its contents until fetch().
void stateOutput(const std::string &name, const Array &host);

/// Brings a state array produced on the device to the host, if it is one
/// and has not been fetched yet (checkpoints, logs, --save-onnx).
void fetch(Array &host);

/// The host's state arrays were replaced wholesale (a checkpoint was
/// loaded): whatever the slots hold is stale, and the next call uploads
/// every state input.
void stateReplaced();

/// A result buffer the caller has copied out: arena memory, reclaimed by
/// the next call, so nothing to do (the CPU build frees its own).
void releaseResult(void *allocated);


} // namespace cuda
} // namespace runtime
} // namespace mpc

#endif // MPC_RUNTIME_CUDA_H
