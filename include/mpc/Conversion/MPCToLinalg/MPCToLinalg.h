//===- MPCToLinalg.h - mpc to linalg conversion -----------------*- C++ -*-===//

#ifndef MPC_CONVERSION_MPCTOLINALG_MPCTOLINALG_H
#define MPC_CONVERSION_MPCTOLINALG_MPCTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace mpc {

/// Patterns lowering mpc compute ops to linalg/tensor/arith/math.
void populateMPCToLinalgConversionPatterns(RewritePatternSet &patterns);

} // namespace mpc
} // namespace mlir

#endif // MPC_CONVERSION_MPCTOLINALG_MPCTOLINALG_H
