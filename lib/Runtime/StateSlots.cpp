//===- StateSlots.cpp - training state in its region, synchronised lazily ===//

#include "StateSlots.h"

namespace mpc {
namespace runtime {

void StateSlots::configure(std::string regionName, uint64_t regionBytes,
                           std::map<std::string, uint64_t> slotOffsets,
                           CopyIn in, CopyOut out) {
  where = std::move(regionName);
  bytes = regionBytes;
  offsets = std::move(slotOffsets);
  slots.clear();
  copyIn = std::move(in);
  copyOut = std::move(out);
}

StateSlots::Slot &StateSlots::slotFor(const std::string &name,
                                      uint64_t slotBytes) {
  auto [it, made] = slots.try_emplace(name);
  Slot &slot = it->second;
  if (made) {
    auto offset = offsets.find(name);
    if (offset == offsets.end() || offset->second + slotBytes > bytes)
      throw Error(where + ": the training state '" + name + "' (" +
                  std::to_string(slotBytes) +
                  " bytes) has no place in the state region (" +
                  std::to_string(bytes) +
                  " bytes, from the compiler's layout); this is a compiler "
                  "bug");
    slot.offset = offset->second;
    slot.bytes = slotBytes;
  } else if (slot.bytes != slotBytes) {
    throw Error(where + ": the training state '" + name + "' changed size");
  }
  return slot;
}

void StateSlots::input(const std::string &name, const Array &host) {
  Slot &slot = slotFor(name, host.data.size());
  if (slot.host == host.data.data())
    return;
  copyIn(slot.offset, host.data.data(), slot.bytes);
  slot.host = host.data.data();
  slot.hostBehind = false;
}

void StateSlots::output(const std::string &name, const Array &host) {
  Slot &slot = slotFor(name, host.data.size());
  slot.host = host.data.data();
  slot.hostBehind = true;
}

void StateSlots::fetch(Array &host) {
  for (auto &[name, slot] : slots) {
    if (slot.host != host.data.data() || !slot.hostBehind)
      continue;
    copyOut(host.data.data(), slot.offset, slot.bytes);
    slot.hostBehind = false;
    return;
  }
}

void StateSlots::forgetHostArrays() {
  for (auto &[name, slot] : slots) {
    slot.host = nullptr;
    slot.hostBehind = false;
  }
}

} // namespace runtime
} // namespace mpc
