//===- MPCDialect.cpp - mpc dialect registration and attributes -----------===//
//
// Dialect registration, the constant materializer and the precision
// attribute's verifier.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::mpc;

#include "mpc/Dialect/MPC/IR/MPCOpsDialect.cpp.inc"
#include "mpc/Dialect/MPC/IR/MPCOpsEnums.cpp.inc"

/// `low` or `fp32` in #mpc.decision.
static ParseResult parseLowOrFp32(AsmParser &parser, bool &low) {
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&keyword))
    return failure();
  if (keyword != "low" && keyword != "fp32")
    return parser.emitError(loc, "expected 'low' or 'fp32'");
  low = keyword == "low";
  return success();
}

static void printLowOrFp32(AsmPrinter &printer, bool low) {
  printer << (low ? "low" : "fp32");
}

#define GET_ATTRDEF_CLASSES
#include "mpc/Dialect/MPC/IR/MPCOpsAttributes.cpp.inc"

void MPCDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mpc/Dialect/MPC/IR/MPCOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "mpc/Dialect/MPC/IR/MPCOpsAttributes.cpp.inc"
      >();
}

Operation *MPCDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

LogicalResult
PrecisionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      FloatType compute, FloatType accumulate,
                      FloatType result) {
  // An accumulator narrower than the values it sums loses the very digits
  // mixed precision keeps fp32 accumulation for.
  if (accumulate.getWidth() < compute.getWidth())
    return emitError() << "accumulate type " << accumulate
                       << " is narrower than compute type " << compute;
  return success();
}
