//===- Builtins.cpp - a compiler builtin Debian 12's libgcc lacks ---------===//
//
// LLVM's x86 backend computes some bf16 operations in f32 and rounds the
// result back with the builtin __truncsfbf2 when the CPU has no bf16
// conversion instructions (AVX2): a bf16 max (MaxPool's compare and
// select) is one. compiler-rt has the builtin and GCC's libgcc has it
// from GCC 13, but Debian 12's GCC 12 does not, and a bf16 program for
// such a CPU failed to link. The archive member is linked only into
// programs that call it.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>

/// f32 to bf16, rounded to nearest even; a NaN stays a NaN of the same
/// sign, made quiet. The bf16 is returned in the low 16 bits of xmm0, as
/// the x86-64 psABI returns a __bf16; GCC 12 has no such return type, so
/// it is returned as the float with those bits (moved, not computed on).
extern "C" float __truncsfbf2(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  uint32_t rounded;
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    rounded = (bits >> 16) | 0x40u;
  else
    rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  float result;
  std::memcpy(&result, &rounded, sizeof result);
  return result;
}
