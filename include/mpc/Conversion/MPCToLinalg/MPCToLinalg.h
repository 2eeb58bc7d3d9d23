//===- MPCToLinalg.h - mpc to linalg conversion -----------------*- C++ -*-===//

#ifndef MPC_CONVERSION_MPCTOLINALG_MPCTOLINALG_H
#define MPC_CONVERSION_MPCTOLINALG_MPCTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace mpc {

/// Patterns lowering mpc compute ops to linalg/tensor/arith/math.
/// Every mpc compute op to linalg/tensor/arith/math: the families below.
void populateMPCToLinalgConversionPatterns(RewritePatternSet &patterns);

/// The op families (lib/Conversion/MPCToLinalg/<Family>.cpp).
void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns);
void populateDataMovementToLinalgPatterns(RewritePatternSet &patterns);
void populateContractionToLinalgPatterns(RewritePatternSet &patterns);
void populatePoolingToLinalgPatterns(RewritePatternSet &patterns);
void populateNormalizationToLinalgPatterns(RewritePatternSet &patterns);
void populateReductionToLinalgPatterns(RewritePatternSet &patterns);
void populateLossToLinalgPatterns(RewritePatternSet &patterns);
void populateOptimizerToLinalgPatterns(RewritePatternSet &patterns);

/// `input` padded by `low` and `high` with the constant `padValue`. A
/// static shape is a `linalg.fill` of the padded shape with `input` copied
/// (`linalg.copy`) into an `extract_slice` of its interior and inserted
/// back (`insert_slice`), not a `tensor.pad`, whose bufferized copy is the
/// runtime's element-at-a-time memrefCopy on one thread; a dynamic one is
/// a `tensor.pad`.
Value padWithConstant(OpBuilder &b, Location loc, Value input,
                      ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                      Value padValue);

} // namespace mpc
} // namespace mlir

#endif // MPC_CONVERSION_MPCTOLINALG_MPCTOLINALG_H
