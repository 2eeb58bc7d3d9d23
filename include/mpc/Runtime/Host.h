//===- Host.h - the CPU side of mpc-compiled programs -----------*- C++ -*-===//
//
// The CPU build's counterpart of CUDA.h, with the same calls, so that one
// generated wrapper serves both builds: the training state lives in one
// host region laid out by the compiler, which the compiled functions
// update in place; inputs are the host arrays themselves; results are
// buffers the functions allocated, copied out and freed.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_RUNTIME_HOST_H
#define MPC_RUNTIME_HOST_H

#include <cstdint>
#include <map>
#include <string>

namespace mpc {
namespace runtime {
struct Array;
namespace host {

/// Reserves the state region, `stateBytes` (aligned to the arena granule),
/// each slot at its offset in `stateOffsets`. Once per process.
void initialize(uint64_t stateBytes,
                const std::map<std::string, uint64_t> &stateOffsets);

void beginCall();
/// The host address of the training state region.
void *stateRegion();
/// As cuda::stateInput/stateOutput/fetch, over the host region.
void stateInput(const std::string &name, const Array &host);
void stateOutput(const std::string &name, const Array &host);
void fetch(Array &host);
/// As cuda::stateReplaced.
void stateReplaced();
/// An input as the compiled function reads it: the host array's own bytes
/// (the functions do not write their inputs).
void *upload(const void *host, uint64_t bytes);
/// Copies a result out of the buffer the function returned.
void download(void *host, const void *result, uint64_t bytes);
/// Frees a result buffer the function allocated (malloc).
void releaseResult(void *allocated);
void endCall();

} // namespace host
} // namespace runtime
} // namespace mpc

#endif // MPC_RUNTIME_HOST_H
