//===- ProgramABI.h - the compiler/runtime contract -------------*- C++ -*-===//
//
// What mpc-compiled programs and mpc's runtime agree on: the kinds of
// training-state slots, the roles of a function's arguments and results,
// the program descriptor's version and the device arena's granule. The
// compiler (the `mpc` dialect's `#mpc.slot` attributes, the descriptor
// writer) and the runtime (which links no LLVM or MLIR) both include this
// header, so it depends on the C++ standard library only. Adding a state
// kind (BatchNorm running statistics, an fp8 amax history) is one line of
// MPC_STATE_KINDS.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_ABI_PROGRAMABI_H
#define MPC_ABI_PROGRAMABI_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Its own top-level namespace: the compiler's `mlir::mpc` and the
// runtime's `mpc::runtime` both use it, and a global `mpc` would make
// `mpc::` ambiguous wherever `using namespace mlir` is in effect.
namespace mpc_abi {

/// The kinds of training-state slots:
///   X(enumerator, spelling, per-parameter, counter).
/// A per-parameter kind has one slot per trainable weight (or per running
/// statistic), named by it and shaped like it; the others are one scalar.
/// Counters are i64 (an f32 stops counting at 2^24), all else f32.
#define MPC_STATE_KINDS(X)                                                     \
  X(Param, "param", true, false)                                               \
  X(Stat, "stat", true, false)                                                 \
  X(Momentum, "momentum", true, false)                                         \
  X(AdamM, "adam_m", true, false)                                              \
  X(AdamV, "adam_v", true, false)                                              \
  X(GradAccum, "grad_accum", true, false)                                      \
  X(DropoutRng, "dropout_rng", false, true)                                    \
  X(Step, "step", false, true)                                                 \
  X(LossScale, "loss_scale", false, false)                                     \
  X(LossScaleCleanSteps, "loss_scale_clean_steps", false, true)                \
  X(SkippedSteps, "skipped_steps", false, true)

enum class StateKind : uint32_t {
#define MPC_ENUMERATOR(name, spelling, perParameter, counter) name,
  MPC_STATE_KINDS(MPC_ENUMERATOR)
#undef MPC_ENUMERATOR
};

/// The roles of a compiled function's arguments and results besides its
/// state: X(enumerator, spelling).
#define MPC_VALUE_ROLES(X)                                                     \
  X(State, "state")                                                            \
  X(Input, "input")                                                            \
  X(Label, "label")                                                            \
  X(LearningRate, "learning_rate")                                             \
  X(WeightDecay, "weight_decay")                                               \
  X(MaxGradNorm, "max_grad_norm")                                              \
  X(GradClipValue, "grad_clip_value")                                          \
  X(AccumulationSteps, "accumulation_steps")                                   \
  X(ApplyUpdate, "apply_update")                                               \
  X(Loss, "loss")                                                              \
  X(GradNorm, "grad_norm")                                                     \
  X(Output, "output")

enum class ValueRole : uint32_t {
#define MPC_ENUMERATOR(name, spelling) name,
  MPC_VALUE_ROLES(MPC_ENUMERATOR)
#undef MPC_ENUMERATOR
};

constexpr std::string_view spelling(StateKind kind) {
  switch (kind) {
#define MPC_CASE(name, text, perParameter, counter)                                     \
  case StateKind::name:                                                        \
    return text;
    MPC_STATE_KINDS(MPC_CASE)
#undef MPC_CASE
  }
  return "";
}

constexpr bool isPerParameter(StateKind kind) {
  switch (kind) {
#define MPC_CASE(name, text, perParameter, counter)                                     \
  case StateKind::name:                                                        \
    return perParameter;
    MPC_STATE_KINDS(MPC_CASE)
#undef MPC_CASE
  }
  return false;
}

constexpr bool isCounter(StateKind kind) {
  switch (kind) {
#define MPC_CASE(name, text, perParameter, counter)                            \
  case StateKind::name:                                                        \
    return counter;
    MPC_STATE_KINDS(MPC_CASE)
#undef MPC_CASE
  }
  return false;
}

/// 4-byte units one element of `kind` takes in the flat state.
constexpr int64_t unitsPerElement(StateKind kind) {
  return isCounter(kind) ? 2 : 1;
}

constexpr std::string_view spelling(ValueRole role) {
  switch (role) {
#define MPC_CASE(name, text)                                                   \
  case ValueRole::name:                                                        \
    return text;
    MPC_VALUE_ROLES(MPC_CASE)
#undef MPC_CASE
  }
  return "";
}

inline std::optional<StateKind> parseStateKind(std::string_view text) {
#define MPC_CASE(name, spelling, perParameter, counter)                                 \
  if (text == spelling)                                                        \
    return StateKind::name;
  MPC_STATE_KINDS(MPC_CASE)
#undef MPC_CASE
  return std::nullopt;
}

inline std::optional<ValueRole> parseValueRole(std::string_view text) {
#define MPC_CASE(name, spelling)                                               \
  if (text == spelling)                                                        \
    return ValueRole::name;
  MPC_VALUE_ROLES(MPC_CASE)
#undef MPC_CASE
  return std::nullopt;
}

/// A slot's name outside the IR (descriptor, checkpoints, --help): the
/// kind for a scalar slot ("step"), "KIND:PARAMETER" for a per-parameter
/// one ("adam_m:fc1.weight"). Checkpoints written before the descriptor
/// existed use the same names, so they still load.
inline std::string qualifiedSlotName(StateKind kind,
                                     std::string_view parameter) {
  std::string name(spelling(kind));
  if (isPerParameter(kind)) {
    name += ':';
    name += parameter;
  }
  return name;
}

/// The program descriptor's format version (`--describe`'s "version").
/// Incremented when a field changes meaning; readers reject other versions.
inline constexpr int64_t kDescriptorVersion = 1;

/// Device buffers (the CUDA arena's scratch and state parts) start on this
/// boundary in bytes: a cp.async, vector load or cuBLAS-style tile never
/// straddles it.
inline constexpr uint64_t kArenaGranuleBytes = 256;

/// The flat training state's element unit: every slot is f32 or i64, laid
/// out in 4-byte units; each kind starts on an arena granule.
inline constexpr uint64_t kStateUnitBytes = 4;

} // namespace mpc_abi

#endif // MPC_ABI_PROGRAMABI_H
