//===- builtins_test.cpp - the runtime's compiler builtins ----------------===//
//
// __truncsfbf2 (lib/Runtime/Builtins.cpp) against an independent rounding:
// the two bf16 values around x, the nearer one by exact double arithmetic,
// ties to the even one. Every special pattern, then every float whose low
// 16 bits are one of a few hundred chosen and random values (all exponents
// and signs). Prints the number of floats checked and of mismatches.
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

extern "C" float __truncsfbf2(float value);

static uint16_t bitsOf(float bf16AsFloat) {
  uint32_t bits;
  std::memcpy(&bits, &bf16AsFloat, sizeof bits);
  return static_cast<uint16_t>(bits);
}

static float widen(uint16_t bf16) {
  uint32_t bits = static_cast<uint32_t>(bf16) << 16;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

/// Whether `got` is the correct rounding of `x` to bf16.
static bool correct(float x, uint16_t got) {
  if (std::isnan(x))
    return std::isnan(widen(got)) && std::signbit(widen(got)) == std::signbit(x);
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  auto toward = static_cast<uint16_t>(bits >> 16); // toward zero
  auto away = static_cast<uint16_t>(toward + 1);   // may be infinite
  if ((bits & 0xffffu) == 0)
    return got == toward;
  double low = std::fabs(static_cast<double>(x) - widen(toward));
  double high = std::fabs(static_cast<double>(x) - widen(away));
  // Past the largest finite bf16 the next value up is infinity: the
  // rounding overflows when x is at least halfway to 2^128.
  if (std::isinf(widen(away)))
    high = std::fabs(std::fabs(static_cast<double>(x)) - std::ldexp(1.0, 128));
  uint16_t expected = low < high ? toward
                      : high < low ? away
                      : (toward & 1) ? away : toward;
  return got == expected;
}

int main() {
  std::vector<uint32_t> lows = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001,
                                0xffff, 0x4000, 0xc000};
  std::mt19937 random(7);
  for (int i = 0; i < 256; ++i)
    lows.push_back(random() & 0xffffu);
  uint64_t checked = 0, wrong = 0;
  for (uint32_t high = 0; high <= 0xffffu; ++high)
    for (uint32_t low : lows) {
      uint32_t bits = high << 16 | low;
      float x;
      std::memcpy(&x, &bits, sizeof x);
      ++checked;
      if (!correct(x, bitsOf(__truncsfbf2(x)))) {
        if (++wrong <= 5)
          std::printf("wrong: 0x%08x -> 0x%04x\n", bits,
                      bitsOf(__truncsfbf2(x)));
      }
    }
  std::printf("%llu floats checked, %llu wrong\n",
              static_cast<unsigned long long>(checked),
              static_cast<unsigned long long>(wrong));
  return wrong == 0 ? 0 : 1;
}
