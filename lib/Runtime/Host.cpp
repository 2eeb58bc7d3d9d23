//===- Host.cpp - the CPU side of mpc-compiled programs -------------------===//

#include "mpc/Runtime/Host.h"
#include "mpc/ABI/ProgramABI.h"
#include "mpc/Runtime/Runtime.h"
#include "StateSlots.h"

#include <cstdlib>
#include <cstring>

namespace mpc {
namespace runtime {
namespace host {

namespace {
struct Region {
  char *base = nullptr;
  StateSlots slots;
  ~Region() { std::free(base); }
};
Region &region() {
  static Region r;
  return r;
}
} // namespace

void initialize(uint64_t stateBytes,
                const std::map<std::string, uint64_t> &stateOffsets) {
  Region &r = region();
  if (r.base)
    throw Error("host: the state region is initialised twice");
  constexpr uint64_t granule = mpc_abi::kArenaGranuleBytes;
  uint64_t bytes = (stateBytes + granule - 1) / granule * granule;
  // Zeroed, like the device's: a kind's padding is read by no one, but
  // every byte of the region has a defined value.
  r.base = static_cast<char *>(std::aligned_alloc(granule, bytes ? bytes
                                                                 : granule));
  if (!r.base)
    throw Error("host: cannot allocate the training state (" +
                std::to_string(bytes) + " bytes)");
  std::memset(r.base, 0, bytes);
  char *base = r.base;
  r.slots.configure(
      "host", bytes, stateOffsets,
      [base](uint64_t offset, const void *host, uint64_t n) {
        std::memcpy(base + offset, host, n);
      },
      [base](void *host, uint64_t offset, uint64_t n) {
        std::memcpy(host, base + offset, n);
      });
}

void beginCall() {}

void *stateRegion() {
  if (!region().base)
    throw Error("host: a function with training state was called before "
                "the state region was initialised");
  return region().base;
}

void stateInput(const std::string &name, const Array &host) {
  region().slots.input(name, host);
}

void stateOutput(const std::string &name, const Array &host) {
  region().slots.output(name, host);
}

void fetch(Array &host) { region().slots.fetch(host); }

void stateReplaced() { region().slots.forgetHostArrays(); }

void *upload(const void *host, uint64_t) { return const_cast<void *>(host); }

void download(void *host, const void *result, uint64_t bytes) {
  std::memcpy(host, result, bytes);
}

void releaseResult(void *allocated) { std::free(allocated); }

void endCall() {}

} // namespace host
} // namespace runtime
} // namespace mpc
