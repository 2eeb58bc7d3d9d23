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
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
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

FailureOr<::mpc_abi::StateKind> mpc::parseStateKind(AsmParser &parser) {
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&keyword))
    return failure();
  if (std::optional<::mpc_abi::StateKind> kind =
          ::mpc_abi::parseStateKind(keyword))
    return *kind;
  InFlightDiagnostic diag = parser.emitError(loc, "unknown state kind '")
                            << keyword << "'; expected one of ";
  llvm::ListSeparator comma(", ");
#define MPC_SPELLING(name, spelling, perParameter, counter)                    \
  diag << StringRef(comma) << spelling;
  MPC_STATE_KINDS(MPC_SPELLING)
#undef MPC_SPELLING
  return failure();
}

FailureOr<::mpc_abi::ValueRole> mpc::parseValueRole(AsmParser &parser) {
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&keyword))
    return failure();
  if (std::optional<::mpc_abi::ValueRole> role =
          ::mpc_abi::parseValueRole(keyword))
    return *role;
  InFlightDiagnostic diag = parser.emitError(loc, "unknown value role '")
                            << keyword << "'; expected one of ";
  llvm::ListSeparator comma(", ");
#define MPC_SPELLING(name, spelling) diag << StringRef(comma) << spelling;
  MPC_VALUE_ROLES(MPC_SPELLING)
#undef MPC_SPELLING
  return failure();
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

//===----------------------------------------------------------------------===//
// Training state
//===----------------------------------------------------------------------===//

LogicalResult SlotAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               ::mpc_abi::StateKind kind,
                               StringRef parameter) {
  bool perParameter = ::mpc_abi::isPerParameter(kind);
  if (perParameter && parameter.empty())
    return emitError() << "slot kind '" << ::mpc_abi::spelling(kind)
                       << "' needs the name of its parameter";
  if (!perParameter && !parameter.empty())
    return emitError() << "slot kind '" << ::mpc_abi::spelling(kind)
                       << "' is one scalar and takes no parameter name";
  return success();
}

LogicalResult
StateLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t elements, ArrayRef<KindRangeAttr> kinds,
                        ArrayRef<SlotRangeAttr> slots) {
  for (KindRangeAttr kind : kinds)
    if (kind.getOffset() < 0 || kind.getSize() < 0 ||
        kind.getOffset() + kind.getSize() * ::mpc_abi::unitsPerElement(
                                                kind.getKind()) >
            elements)
      return emitError() << "kind '" << ::mpc_abi::spelling(kind.getKind())
                         << "' lies outside the " << elements
                         << "-unit state";
  for (SlotRangeAttr slot : slots) {
    const KindRangeAttr *kind = llvm::find_if(kinds, [&](KindRangeAttr k) {
      return k.getKind() == slot.getSlot().getKind();
    });
    if (kind == kinds.end())
      return emitError() << "slot '" << slot.getSlot().getQualifiedName()
                         << "' has no kind range";
    if (slot.getOffset() < kind->getOffset() || slot.getOffset() >= elements)
      return emitError() << "slot '" << slot.getSlot().getQualifiedName()
                         << "' lies outside its kind's range";
  }
  return success();
}

/// Counters are i64, everything else f32.
static bool hasElementTypeOf(::mpc_abi::StateKind kind, Type element) {
  return ::mpc_abi::isCounter(kind) ? element.isInteger(64) : element.isF32();
}

/// `mpc.slot`, `mpc.state_kind` or `mpc.role` on value `index` of `op`'s
/// function type (`what` is "argument" or "result").
static LogicalResult verifyValueAttribute(Operation *op, StringRef what,
                                          unsigned index, Type type,
                                          NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  auto shaped = dyn_cast<ShapedType>(type);
  if (name == MPCDialect::kSlotAttrName) {
    auto slot = dyn_cast<SlotAttr>(attribute.getValue());
    if (!slot)
      return op->emitError() << what << " #" << index << ": '" << name
                             << "' must be a #mpc.slot attribute";
    if (!shaped || !hasElementTypeOf(slot.getKind(), shaped.getElementType()))
      return op->emitError()
             << what << " #" << index << " (slot '"
             << slot.getQualifiedName() << "') has type " << type
             << "; a slot of this kind holds "
             << (::mpc_abi::isCounter(slot.getKind()) ? "i64" : "f32")
             << " values";
    if (!::mpc_abi::isPerParameter(slot.getKind()) && shaped.hasRank() &&
        shaped.getRank() != 0)
      return op->emitError() << what << " #" << index << " (slot '"
                             << slot.getQualifiedName()
                             << "') must be a scalar, got " << type;
    return success();
  }
  if (name == MPCDialect::kStateKindAttrName) {
    auto kind = dyn_cast<StateKindAttr>(attribute.getValue());
    if (!kind)
      return op->emitError() << what << " #" << index << ": '" << name
                             << "' must be a #mpc.state_kind attribute";
    if (!shaped || !shaped.hasRank() || shaped.getRank() != 1)
      return op->emitError() << what << " #" << index << " (state kind '"
                             << ::mpc_abi::spelling(kind.getKind())
                             << "') must be one flat buffer, got " << type;
    return success();
  }
  if (name == MPCDialect::kRoleAttrName) {
    auto role = dyn_cast<RoleAttr>(attribute.getValue());
    if (!role)
      return op->emitError() << what << " #" << index << ": '" << name
                             << "' must be a #mpc.role attribute";
    if (role.getRole() == ::mpc_abi::ValueRole::State)
      return op->emitError() << what << " #" << index
                             << ": state is tagged with mpc.slot, not "
                                "mpc.role";
    return success();
  }
  return success();
}

LogicalResult MPCDialect::verifyRegionArgAttribute(Operation *op,
                                                   unsigned regionIndex,
                                                   unsigned argIndex,
                                                   NamedAttribute attribute) {
  Region &region = op->getRegion(regionIndex);
  Type type = region.empty() ? Type()
                             : region.front().getArgument(argIndex).getType();
  if (auto function = dyn_cast<FunctionOpInterface>(op))
    type = function.getArgumentTypes()[argIndex];
  return verifyValueAttribute(op, "argument", argIndex, type, attribute);
}

LogicalResult MPCDialect::verifyRegionResultAttribute(
    Operation *op, unsigned regionIndex, unsigned resultIndex,
    NamedAttribute attribute) {
  Type type;
  if (auto function = dyn_cast<FunctionOpInterface>(op))
    type = function.getResultTypes()[resultIndex];
  return verifyValueAttribute(op, "result", resultIndex, type, attribute);
}

LogicalResult MPCDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == kStateLayoutAttrName) {
    if (!isa<ModuleOp>(op))
      return op->emitError() << "'" << name << "' belongs on the module";
    if (!isa<StateLayoutAttr>(attribute.getValue()))
      return op->emitError() << "'" << name
                             << "' must be a #mpc.state_layout attribute";
    return success();
  }
  if (name == kSlotAttrName || name == kStateKindAttrName ||
      name == kRoleAttrName)
    return op->emitError() << "'" << name
                           << "' tags a function's arguments and results, "
                              "not an operation";
  return success();
}

void mpc::stripStateAttributes(Operation *module) {
  MLIRContext *context = module->getContext();
  SmallVector<StringAttr> names = llvm::map_to_vector(
      ArrayRef<StringRef>{MPCDialect::kSlotAttrName,
                          MPCDialect::kStateKindAttrName,
                          MPCDialect::kRoleAttrName},
      [&](StringRef name) { return StringAttr::get(context, name); });
  module->walk([&](FunctionOpInterface function) {
    for (StringAttr name : names) {
      for (unsigned i = 0; i < function.getNumArguments(); ++i)
        function.removeArgAttr(i, name);
      for (unsigned i = 0; i < function.getNumResults(); ++i)
        function.removeResultAttr(i, name);
    }
  });
  module->removeAttr(MPCDialect::kStateLayoutAttrName);
}
