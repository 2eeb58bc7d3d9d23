//===- PrecisionChoice.cpp - what --precision=auto picks ------------------===//

#include "mpc/Compiler/PrecisionChoice.h"
#include "mpc/Compiler/Compiler.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::mpc;

/// The compute capability of an `sm_XY` name (80 for sm_80), 0 if none.
static unsigned computeCapability(StringRef arch) {
  unsigned capability = 0;
  if (!arch.consume_front("sm_") || arch.getAsInteger(10, capability))
    return 0;
  return capability;
}

/// Whether mpc's CPU kernels compute bf16 contractions natively on `cpu`.
/// Not yet on any CPU: the CPU pipeline widens bf16 to f32 and uses f32
/// FMAs (arith-expand), so bf16 there costs conversions and saves nothing;
/// issue #19's vdpbf16ps kernels change this answer.
static bool cpuKernelsUseBF16(const CPUTarget &cpu) {
  (void)cpu;
  return false;
}

PrecisionChoice mlir::mpc::choosePrecision(const CompileOptions &options,
                                           const CPUTarget &cpu) {
  PrecisionChoice choice;
  if (options.targetCUDA) {
    unsigned capability = computeCapability(options.gpuArch);
    std::string also = options.targetCPU
                           ? "; the CPU build runs the same bf16 program"
                           : "";
    if (capability >= 80) {
      choice.precision = "bf16";
      choice.reason = options.gpuArch +
                      " tensor cores multiply bf16 natively (fp32 "
                      "accumulation), and bf16 has fp32's range, so no loss "
                      "scaling" +
                      also;
      return choice;
    }
    if (capability >= 70) {
      choice.precision = "fp16";
      choice.reason = options.gpuArch +
                      " tensor cores multiply fp16 but not bf16 natively: "
                      "fp16 with dynamic loss scaling";
      return choice;
    }
  }
  choice.precision = "fp32";
  std::string name = "the CPU (" + cpu.cpu + ")";
  if (cpu.bf16DotProducts && !cpuKernelsUseBF16(cpu))
    choice.reason = name + " has native bf16 dot products, but mpc's CPU "
                           "kernels still widen bf16 to f32, which makes "
                           "bf16 slower than fp32 (issue #19)";
  else if (cpu.fp16Arithmetic)
    choice.reason = name + " has fp16 arithmetic, but contractions must "
                           "accumulate in fp32, which it does not do in "
                           "fp16; no native bf16";
  else
    choice.reason = name + " has no native bf16 or fp16 arithmetic (F16C "
                           "only converts): low precision would only add "
                           "conversions";
  return choice;
}
