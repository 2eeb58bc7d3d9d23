//===- StateSlots.h - training state in its region, synchronised lazily --===//
//
// Every build keeps the training state in one region laid out by the
// compiler (mpc-flatten-training-state): host memory for the CPU build, the
// top of the device arena for CUDA. The compiled functions read and update
// it in place; the host's arrays are copies, brought up to date only when
// the host reads them (checkpoints, logs, --save-onnx). This is the
// bookkeeping both builds share; they differ only in how bytes move.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_RUNTIME_STATESLOTS_H
#define MPC_RUNTIME_STATESLOTS_H

#include "mpc/Runtime/Runtime.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace mpc {
namespace runtime {

class StateSlots {
public:
  /// Moves `bytes` between host memory and the region at `offset`.
  using CopyIn =
      std::function<void(uint64_t offset, const void *host, uint64_t bytes)>;
  using CopyOut =
      std::function<void(void *host, uint64_t offset, uint64_t bytes)>;

  /// The region's size and each slot's byte offset (the compiler's
  /// layout); `where` names the region in messages.
  void configure(std::string where, uint64_t bytes,
                 std::map<std::string, uint64_t> offsets, CopyIn copyIn,
                 CopyOut copyOut);

  /// A state argument: already in its slot when `host` is the array the
  /// slot last produced or received (no copy), else copied in.
  void input(const std::string &name, const Array &host);
  /// A state result, which the call wrote into its slot: `host` (shaped
  /// by the caller) gets its contents at fetch().
  void output(const std::string &name, const Array &host);
  /// Brings `host` up to date if it is a state result not yet fetched.
  void fetch(Array &host);
  /// The host replaced its state arrays (a checkpoint was loaded): the
  /// next call copies every slot in. Identity is by buffer address, and a
  /// new array may sit where a freed one was.
  void forgetHostArrays();

private:
  struct Slot {
    uint64_t offset = 0, bytes = 0;
    /// The host array whose contents the slot holds (its buffer: arrays
    /// move between the runtime's vectors without changing it), and
    /// whether that array is behind the slot.
    const char *host = nullptr;
    bool hostBehind = false;
  };
  Slot &slotFor(const std::string &name, uint64_t bytes);

  std::string where;
  uint64_t bytes = 0;
  std::map<std::string, uint64_t> offsets;
  std::map<std::string, Slot> slots;
  CopyIn copyIn;
  CopyOut copyOut;
};

} // namespace runtime
} // namespace mpc

#endif // MPC_RUNTIME_STATESLOTS_H
