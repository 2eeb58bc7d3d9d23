//===- FlattenTrainingState.cpp - state in one region, updates merged -----===//
//
// A training step that updates each parameter with its own op launches one
// kernel per parameter, or, fused, one kernel whose parameter list grows
// with the model until the GPU's 4 KiB of kernel parameters runs out. Apex
// and DeepSpeed keep parameters, gradients and moments in flat buffers
// instead; so does this pass: the state becomes one fp32 region, each slot
// kind a contiguous range of it, and the per-slot elementwise ops over a
// whole kind (the optimizer update, the loss scale's skip selects, the
// unscale and finite check) become one op over that range. The gradients
// are gathered into one flat buffer laid out like the parameters.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include "mpc/Dialect/MPC/Transforms/Passes.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCFLATTENTRAININGSTATE
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

using ::mpc_abi::StateKind;

/// Each kind starts on an arena granule (in 4-byte units): the start of
/// every flattened kernel's range is aligned for vector and cp.async access.
static constexpr int64_t kKindAlignment =
    ::mpc_abi::kArenaGranuleBytes / ::mpc_abi::kStateUnitBytes;

namespace {

struct Slot {
  SlotAttr name;
  RankedTensorType type;
  unsigned kind;
  /// Position within its kind, and element offset from the kind's start.
  unsigned index;
  int64_t offsetInKind;
};

struct Kind {
  StateKind name;
  /// The slots' element type: f32, or i64 for the counters.
  Type element;
  /// Offset in the region in 4-byte units; size in elements.
  int64_t offset = 0, size = 0;
  int64_t unitsPerElement() const {
    return element.getIntOrFloatBitWidth() / 32;
  }
  SmallVector<unsigned> slots;
  /// The first kind with the same slot shapes in the same order (Adam's
  /// moments and the parameters): their ranges are laid out alike, so one
  /// op can take slot k of each.
  unsigned shapeClass = 0;
};

struct Layout {
  SmallVector<Slot> slots;
  SmallVector<Kind> kinds;
  llvm::DenseMap<SlotAttr, unsigned> byName;
  int64_t elements = 0;

  /// In 4-byte units from the region's start.
  int64_t offsetOf(const Slot &slot) const {
    const Kind &kind = kinds[slot.kind];
    return kind.offset + slot.offsetInKind * kind.unitsPerElement();
  }
  const Slot &slotOf(unsigned kind, unsigned index) const {
    return slots[kinds[kind].slots[index]];
  }
};

/// `value` is slot `index` of the flat tensor `flat`, which holds a whole
/// kind laid out as in the region.
struct SlotOf {
  Value flat;
  unsigned kind;
  unsigned index;
};

/// How one operand of a per-slot op takes part in the merged op.
struct OperandRole {
  enum { Flat, Shared, Gathered } role;
  /// The flat tensor (Flat) or the operand itself (Shared).
  Value value;
  bool operator==(const OperandRole &other) const {
    return role == other.role && value == other.value;
  }
};

/// What a per-slot op has in common with the ops of the other slots it
/// merges with.
struct Signature {
  OperationName name;
  Attribute properties;
  /// The shape class of the slot operands.
  unsigned kind;
  SmallVector<OperandRole> roles;
  bool operator==(const Signature &other) const {
    return name == other.name && properties == other.properties &&
           kind == other.kind &&
           roles == other.roles;
  }
};

class FlattenTrainingState
    : public mpc::impl::MPCFlattenTrainingStateBase<FlattenTrainingState> {
public:
  using Base::Base;
  void runOnOperation() override;

private:
  LogicalResult buildLayout(ModuleOp module);
  LogicalResult rewriteFunction(func::FuncOp func);
  void rewriteCall(func::CallOp call, func::FuncOp callee,
                   ArrayRef<unsigned> stateArgs, ArrayRef<unsigned> stateResults,
                   ArrayRef<unsigned> takenKinds,
                   ArrayRef<unsigned> resultKinds);
  RankedTensorType kindType(unsigned kind) {
    return RankedTensorType::get({layout.kinds[kind].size},
                                 layout.kinds[kind].element);
  }
  DictionaryAttr kindAttrs(unsigned kind) {
    Builder b(&getContext());
    return b.getDictionaryAttr(
        b.getNamedAttr(MPCDialect::kStateKindAttrName,
                       StateKindAttr::get(&getContext(),
                                          layout.kinds[kind].name)));
  }
  /// Merges the per-slot ops of `block` kind by kind.
  void mergePerSlotOps(Block &block);
  void mergeUnscale(UnscaleGradientsOp unscale);
  std::optional<std::pair<Signature, unsigned>> signatureOf(Operation *op);
  /// The values `perSlot[k]` (slot k of `kind`) gathered into one flat
  /// tensor laid out like the kind.
  Value gather(OpBuilder &b, Location loc, unsigned kind,
               ArrayRef<Value> perSlot);
  /// Slot `index` of `flat`, shaped like the slot, and remembered as such.
  Value slotValue(OpBuilder &b, Location loc, Value flat, unsigned kind,
                  unsigned index, Type elementType);

  Layout layout;
  llvm::DenseMap<Value, SlotOf> slotOf;
  llvm::DenseSet<Operation *> mergedOps;
};

} // namespace

//===----------------------------------------------------------------------===//
// Shapes: slots as 1-D slices of the region
//===----------------------------------------------------------------------===//

static SmallVector<ReassociationIndices> collapseAll(int64_t rank) {
  if (rank == 0)
    return {};
  return {llvm::to_vector(llvm::seq<int64_t>(0, rank))};
}

/// `value` (any static shape) as a 1-D tensor.
static Value toFlat(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() == 1)
    return value;
  auto flat =
      RankedTensorType::get({type.getNumElements()}, type.getElementType());
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, flat, value,
                                         ArrayRef<ReassociationIndices>{});
  return tensor::CollapseShapeOp::create(b, loc, value,
                                         collapseAll(type.getRank()));
}

/// The 1-D `value` shaped as `type`.
static Value fromFlat(OpBuilder &b, Location loc, Value value,
                      RankedTensorType type) {
  if (type.getRank() == 1)
    return value;
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, value,
                                           ArrayRef<ReassociationIndices>{});
  return tensor::ExpandShapeOp::create(b, loc, type, value,
                                       collapseAll(type.getRank()));
}

static Value extractRange(OpBuilder &b, Location loc, Value flat,
                          int64_t offset, int64_t size) {
  return tensor::ExtractSliceOp::create(
      b, loc, flat, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(size)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
}

static Value insertRange(OpBuilder &b, Location loc, Value source, Value into,
                         int64_t offset) {
  int64_t size = cast<RankedTensorType>(source.getType()).getNumElements();
  return tensor::InsertSliceOp::create(
      b, loc, source, into, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(size)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

LogicalResult FlattenTrainingState::buildLayout(ModuleOp module) {
  llvm::DenseMap<StateKind, unsigned> kindByName;
  auto addSlot = [&](func::FuncOp func, SlotAttr name,
                     Type type) -> LogicalResult {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape() ||
        !(tensor.getElementType().isF32() ||
          tensor.getElementType().isSignlessInteger(64)))
      return func.emitError()
             << "mpc-flatten-training-state: state '" << name.getQualifiedName()
             << "' has type " << type
             << "; the flattened state holds statically shaped f32 or i64 "
                "tensors";
    auto [it, added] = layout.byName.try_emplace(name, layout.slots.size());
    if (!added) {
      if (layout.slots[it->second].type != tensor)
        return func.emitError()
               << "mpc-flatten-training-state: state '" << name.getQualifiedName()
               << "' has type " << type << " here and "
               << layout.slots[it->second].type << " elsewhere";
      return success();
    }
    auto [kindIt, newKind] =
        kindByName.try_emplace(name.getKind(), layout.kinds.size());
    if (newKind)
      layout.kinds.push_back({name.getKind(), tensor.getElementType()});
    // One element type per kind: the dialect verifies it (mpc.slot).
    Kind &kind = layout.kinds[kindIt->second];
    layout.slots.push_back({name, tensor, kindIt->second,
                            unsigned(kind.slots.size()), kind.size});
    kind.slots.push_back(it->second);
    kind.size += tensor.getNumElements();
    return success();
  };
  for (auto func : module.getOps<func::FuncOp>()) {
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (auto name = func.getArgAttrOfType<SlotAttr>(
              i, MPCDialect::kSlotAttrName))
        if (failed(addSlot(func, name, func.getArgument(i).getType())))
          return failure();
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      if (auto name = func.getResultAttrOfType<SlotAttr>(
              i, MPCDialect::kSlotAttrName))
        if (failed(addSlot(func, name, func.getResultTypes()[i])))
          return failure();
  }
  for (auto [k, kind] : llvm::enumerate(layout.kinds)) {
    auto shapesOf = [&](const Kind &of) {
      return llvm::map_to_vector(of.slots, [&](unsigned slot) {
        return layout.slots[slot].type;
      });
    };
    kind.shapeClass = k;
    for (unsigned other = 0; other < k; ++other)
      if (shapesOf(layout.kinds[other]) == shapesOf(kind)) {
        kind.shapeClass = other;
        break;
      }
  }
  int64_t cursor = 0;
  for (Kind &kind : layout.kinds) {
    kind.offset = llvm::alignTo(cursor, kKindAlignment);
    cursor = kind.offset + kind.size * kind.unitsPerElement();
  }
  layout.elements = llvm::alignTo(cursor, kKindAlignment);
  return success();
}

//===----------------------------------------------------------------------===//
// Merging per-slot ops
//===----------------------------------------------------------------------===//

Value FlattenTrainingState::gather(OpBuilder &b, Location loc, unsigned kind,
                                   ArrayRef<Value> perSlot) {
  // Each value goes into the flat buffer right where it is defined, in
  // the order the values are defined (the backward pass makes the last
  // layer's gradient first): the buffer they are inserted into then
  // exists before each one's producer, and empty-tensor elimination can
  // let the producer write into its slot directly.
  Type element = getElementTypeOrSelf(perSlot.front().getType());
  Block *block = b.getInsertionBlock();
  OpBuilder atStart = OpBuilder::atBlockBegin(block);
  Value flat = tensor::EmptyOp::create(
      atStart, loc, ArrayRef<int64_t>{layout.kinds[kind].size}, element);
  SmallVector<unsigned> order =
      llvm::to_vector(llvm::seq<unsigned>(0, perSlot.size()));
  auto definedIn = [&](Value value) -> Operation * {
    Operation *def = value.getDefiningOp();
    return def && def->getBlock() == block ? def : nullptr;
  };
  llvm::stable_sort(order, [&](unsigned x, unsigned y) {
    Operation *a = definedIn(perSlot[x]), *c = definedIn(perSlot[y]);
    return c && (!a || a->isBeforeInBlock(c));
  });
  Operation *last = flat.getDefiningOp();
  for (unsigned index : order) {
    Operation *def = definedIn(perSlot[index]);
    OpBuilder at(b.getContext());
    if (def && last->isBeforeInBlock(def))
      at.setInsertionPointAfter(def);
    else
      at.setInsertionPointAfter(last);
    flat = insertRange(at, loc, toFlat(at, loc, perSlot[index]), flat,
                       layout.slotOf(kind, index).offsetInKind);
    last = flat.getDefiningOp();
  }
  return flat;
}

Value FlattenTrainingState::slotValue(OpBuilder &b, Location loc, Value flat,
                                      unsigned kind, unsigned index,
                                      Type elementType) {
  const Slot &slot = layout.slotOf(kind, index);
  Value value = fromFlat(
      b, loc,
      extractRange(b, loc, flat, slot.offsetInKind,
                   slot.type.getNumElements()),
      RankedTensorType(slot.type).clone(elementType));
  slotOf[value] = {flat, kind, index};
  return value;
}

/// The per-slot elementwise ops whose instances over every slot of a kind
/// compute the same as one instance over the kind's flat range: each
/// result element depends on the same element of the slot-shaped operands
/// and on scalars only.
static bool isPerSlotElementwise(Operation *op) {
  return isa<SGDUpdateOp, MomentumUpdateOp, AdamUpdateOp, WhereOp>(op);
}

std::optional<std::pair<Signature, unsigned>>
FlattenTrainingState::signatureOf(Operation *op) {
  // Inherent attributes only: discardable ones (the precision pass's
  // per-node explanation) differ from parameter to parameter.
  Signature signature{op->getName(), op->getPropertiesAsAttribute(), 0, {}};
  std::optional<unsigned> index;
  for (Value operand : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type)
      return std::nullopt;
    // Scalars (the learning rate, the step, the finite flag) are shared by
    // every slot, even when they are state themselves.
    auto it = slotOf.find(operand);
    if (type.getRank() == 0 || it == slotOf.end())
      continue;
    unsigned shapeClass = layout.kinds[it->second.kind].shapeClass;
    if (index && (*index != it->second.index || signature.kind != shapeClass))
      return std::nullopt;
    index = it->second.index;
    signature.kind = shapeClass;
  }
  if (!index)
    return std::nullopt;
  RankedTensorType slotType = layout.slotOf(signature.kind, *index).type;
  for (Value operand : op->getOperands()) {
    auto type = cast<RankedTensorType>(operand.getType());
    if (type.getRank() == 0)
      signature.roles.push_back({OperandRole::Shared, operand});
    else if (auto it = slotOf.find(operand); it != slotOf.end())
      signature.roles.push_back({OperandRole::Flat, it->second.flat});
    else if (type.getShape() == slotType.getShape())
      signature.roles.push_back({OperandRole::Gathered, Value()});
    else
      return std::nullopt;
  }
  for (Type type : op->getResultTypes())
    if (!isa<RankedTensorType>(type) ||
        cast<RankedTensorType>(type).getShape() != slotType.getShape())
      return std::nullopt;
  return std::make_pair(std::move(signature), *index);
}

void FlattenTrainingState::mergeUnscale(UnscaleGradientsOp unscale) {
  // The gradients' slots, from the optimizer updates that read them.
  std::optional<unsigned> kind;
  SmallVector<int> indexOf;
  for (Value unscaled : unscale.getUnscaled()) {
    std::optional<SlotOf> slot;
    for (Operation *user : unscaled.getUsers()) {
      if (!isa<SGDUpdateOp, MomentumUpdateOp, AdamUpdateOp>(user))
        continue;
      auto it = slotOf.find(user->getOperand(0));
      if (it != slotOf.end())
        slot = it->second;
    }
    if (!slot || (kind && *kind != slot->kind))
      return;
    kind = slot->kind;
    indexOf.push_back(slot->index);
  }
  if (!kind || indexOf.size() != layout.kinds[*kind].slots.size())
    return;
  SmallVector<Value> perSlot(indexOf.size());
  for (auto [gradient, index] :
       llvm::zip(unscale.getGradients(), indexOf)) {
    if (perSlot[index])
      return; // two gradients of one parameter
    perSlot[index] = gradient;
  }
  OpBuilder b(unscale);
  Location loc = unscale.getLoc();
  Value gathered = gather(b, loc, *kind, perSlot);
  auto merged = UnscaleGradientsOp::create(
      b, loc, TypeRange{gathered.getType()}, unscale.getFinite().getType(),
      ValueRange{gathered}, unscale.getScale());
  for (auto [unscaled, index] : llvm::zip(unscale.getUnscaled(), indexOf))
    unscaled.replaceAllUsesWith(slotValue(b, loc, merged.getUnscaled()[0],
                                          *kind, index, b.getF32Type()));
  unscale.getFinite().replaceAllUsesWith(merged.getFinite());
  unscale.erase();
}

void FlattenTrainingState::mergePerSlotOps(Block &block) {
  for (auto unscale :
       llvm::make_early_inc_range(block.getOps<UnscaleGradientsOp>()))
    mergeUnscale(unscale);

  // In block order, so that a group's operands (the results of an earlier
  // merged group) are known to be slots when the group is formed. Merged
  // ops go before the terminator; the block is sorted afterwards.
  SmallVector<Operation *> candidates;
  for (Operation &op : block)
    if (isPerSlotElementwise(&op))
      candidates.push_back(&op);
  llvm::DenseSet<Operation *> done;
  for (auto [position, op] : llvm::enumerate(candidates)) {
    if (done.contains(op))
      continue;
    auto signature = signatureOf(op);
    if (!signature)
      continue;
    unsigned kind = signature->first.kind;
    SmallVector<Operation *> group(layout.kinds[kind].slots.size());
    group[signature->second] = op;
    for (Operation *other : ArrayRef(candidates).drop_front(position + 1)) {
      if (done.contains(other) || other->getName() != op->getName())
        continue;
      auto otherSignature = signatureOf(other);
      if (otherSignature && otherSignature->first == signature->first &&
          !group[otherSignature->second])
        group[otherSignature->second] = other;
    }
    if (llvm::is_contained(group, nullptr))
      continue;

    OpBuilder b(block.getTerminator());
    Location loc = op->getLoc();
    SmallVector<Value> operands;
    for (auto [i, role] : llvm::enumerate(signature->first.roles)) {
      if (role.role != OperandRole::Gathered) {
        operands.push_back(role.value);
        continue;
      }
      operands.push_back(gather(
          b, loc, kind,
          llvm::map_to_vector(group, [&](Operation *member) {
            return member->getOperand(i);
          })));
    }
    SmallVector<Type> resultTypes =
        llvm::map_to_vector(op->getResultTypes(), [&](Type type) -> Type {
          return RankedTensorType::get({layout.kinds[kind].size},
                                       getElementTypeOrSelf(type));
        });
    // The members' inherent attributes are equal; of their discardable
    // ones, those they all share.
    SmallVector<NamedAttribute> attrs;
    DictionaryAttr inherent = op->getAttrDictionary();
    DictionaryAttr discardable = op->getDiscardableAttrDictionary();
    for (NamedAttribute attr : inherent) {
      if (discardable.contains(attr.getName()) &&
          llvm::any_of(group, [&](Operation *member) {
            return member->getDiscardableAttr(attr.getName()) !=
                   attr.getValue();
          }))
        continue;
      attrs.push_back(attr);
    }
    OperationState state(loc, op->getName(), operands, resultTypes, attrs);
    Operation *merged = b.create(state);
    mergedOps.insert(merged);
    for (auto [index, member] : llvm::enumerate(group)) {
      for (auto [result, flat] :
           llvm::zip(member->getResults(), merged->getResults()))
        result.replaceAllUsesWith(slotValue(
            b, member->getLoc(), flat, kind, index,
            getElementTypeOrSelf(result.getType())));
      done.insert(member);
      member->erase();
    }
  }
}

//===----------------------------------------------------------------------===//
// Functions and calls
//===----------------------------------------------------------------------===//

/// The kinds with a slot among `positions` (argument or result indices of
/// `func` carrying `mpc.slot`), in layout order.
template <typename AttrOf>
static SmallVector<unsigned> kindsOf(const Layout &layout,
                                     ArrayRef<unsigned> positions,
                                     AttrOf attrOf) {
  llvm::SmallSetVector<unsigned, 8> kinds;
  for (unsigned i : positions)
    kinds.insert(layout.slots[layout.byName.lookup(attrOf(i))].kind);
  SmallVector<unsigned> sorted(kinds.begin(), kinds.end());
  llvm::sort(sorted);
  return sorted;
}

LogicalResult FlattenTrainingState::rewriteFunction(func::FuncOp func) {
  SmallVector<unsigned> stateArgs, stateResults;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (func.getArgAttrOfType<SlotAttr>(i, MPCDialect::kSlotAttrName))
      stateArgs.push_back(i);
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (func.getResultAttrOfType<SlotAttr>(i, MPCDialect::kSlotAttrName))
      stateResults.push_back(i);
  if (stateArgs.empty() && stateResults.empty())
    return success();
  if (func.isExternal())
    return func.emitError() << "mpc-flatten-training-state: @"
                            << func.getSymName()
                            << " has training state but no body";
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "mpc-flatten-training-state: @"
                            << func.getSymName()
                            << " has more than one block";
  auto argName = [&](unsigned i) {
    return func.getArgAttrOfType<SlotAttr>(i, MPCDialect::kSlotAttrName);
  };
  auto resultName = [&](unsigned i) {
    return func.getResultAttrOfType<SlotAttr>(i, MPCDialect::kSlotAttrName);
  };
  // A kind written is also taken: its buffer is the destination.
  SmallVector<unsigned> argKinds = kindsOf(layout, stateArgs, argName);
  SmallVector<unsigned> resultKinds =
      kindsOf(layout, stateResults, resultName);
  llvm::SmallSetVector<unsigned, 8> taken(argKinds.begin(), argKinds.end());
  taken.insert(resultKinds.begin(), resultKinds.end());
  SmallVector<unsigned> takenKinds(taken.begin(), taken.end());
  llvm::sort(takenKinds);

  // Calls first: they need the function's old signature.
  SmallVector<func::CallOp> calls;
  if (auto uses = SymbolTable::getSymbolUses(func, getOperation())) {
    for (const SymbolTable::SymbolUse &use : *uses) {
      auto call = dyn_cast<func::CallOp>(use.getUser());
      if (!call)
        return use.getUser()->emitError()
               << "mpc-flatten-training-state: @" << func.getSymName()
               << " changes its signature; only its calls can follow";
      calls.push_back(call);
    }
  }
  for (func::CallOp call : calls)
    rewriteCall(call, func, stateArgs, stateResults, takenKinds, resultKinds);

  Block &block = func.getBody().front();
  Location loc = func.getLoc();
  llvm::DenseMap<unsigned, BlockArgument> kindArg;
  for (auto [position, k] : llvm::enumerate(takenKinds)) {
    if (failed(func.insertArgument(position, kindType(k), kindAttrs(k), loc)))
      return failure();
    kindArg[k] = block.getArgument(position);
  }
  for (unsigned &i : stateArgs)
    i += takenKinds.size();

  // Slots read: from a kind taken whole, tagged as its slots, so that
  // merged ops read the kind's buffer directly.
  slotOf.clear();
  OpBuilder b = OpBuilder::atBlockBegin(&block);
  llvm::DenseMap<unsigned, BlockArgument> argOfSlot;
  for (unsigned i : stateArgs)
    argOfSlot[layout.byName.lookup(argName(i))] = block.getArgument(i);
  for (unsigned k : argKinds) {
    const Kind &kind = layout.kinds[k];
    if (llvm::all_of(kind.slots,
                     [&](unsigned slot) { return argOfSlot.count(slot); })) {
      for (auto [index, slot] : llvm::enumerate(kind.slots))
        argOfSlot[slot].replaceAllUsesWith(
            slotValue(b, loc, kindArg[k], k, index, kind.element));
      continue;
    }
    for (unsigned slot : kind.slots)
      if (argOfSlot.count(slot))
        argOfSlot[slot].replaceAllUsesWith(fromFlat(
            b, loc,
            extractRange(b, loc, kindArg[k],
                         layout.slots[slot].offsetInKind,
                         layout.slots[slot].type.getNumElements()),
            layout.slots[slot].type));
  }
  llvm::BitVector erasedArgs(func.getNumArguments());
  for (unsigned i : stateArgs)
    erasedArgs.set(i);
  if (failed(func.eraseArguments(erasedArgs)))
    return failure();

  mergePerSlotOps(block);

  // State written: a kind's merged result goes back into the kind's buffer
  // as a whole, other slots one by one; a slot returned unchanged is not
  // written at all. Writes are subset insertions into the argument, which
  // empty-tensor elimination turns into the producers writing in place.
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  llvm::DenseMap<unsigned, Value> resultOfSlot;
  for (unsigned i : stateResults)
    resultOfSlot[layout.byName.lookup(resultName(i))] = ret.getOperand(i);
  b.setInsertionPoint(ret);
  SmallVector<Value> operands;
  for (unsigned k : resultKinds) {
    const Kind &kind = layout.kinds[k];
    Value updated = kindArg[k];
    // The kind's merged result: slot k of one flat value returned as each
    // slot k.
    auto wholeResult = [&]() -> Value {
      Value whole;
      for (auto [index, slot] : llvm::enumerate(kind.slots)) {
        auto result = resultOfSlot.find(slot);
        if (result == resultOfSlot.end())
          return Value();
        auto it = slotOf.find(result->second);
        if (it == slotOf.end() ||
            layout.kinds[it->second.kind].shapeClass != kind.shapeClass ||
            it->second.index != index || (whole && whole != it->second.flat))
          return Value();
        whole = it->second.flat;
      }
      return whole;
    };
    if (Value whole = wholeResult()) {
      if (whole != kindArg[k])
        updated = bufferization::MaterializeInDestinationOp::create(
                      b, loc, whole, updated)
                      .getResult();
      operands.push_back(updated);
      continue;
    }
    for (unsigned slot : kind.slots) {
      auto result = resultOfSlot.find(slot);
      if (result == resultOfSlot.end())
        continue;
      auto it = slotOf.find(result->second);
      if (it != slotOf.end() && it->second.flat == kindArg[k] &&
          it->second.index == layout.slots[slot].index)
        continue; // unchanged
      Value flat = toFlat(b, loc, result->second);
      // A slot that is the whole kind (a scalar) is not a proper subset:
      // an insertion would fold away, and with it the in-place write.
      if (kind.slots.size() == 1)
        updated = bufferization::MaterializeInDestinationOp::create(
                      b, loc, flat, updated)
                      .getResult();
      else
        updated = insertRange(b, loc, flat, updated,
                              layout.slots[slot].offsetInKind);
    }
    operands.push_back(updated);
  }
  for (auto [i, operand] : llvm::enumerate(ret.getOperands()))
    if (!llvm::is_contained(stateResults, i))
      operands.push_back(operand);
  ret->setOperands(operands);
  llvm::BitVector erasedResults(func.getNumResults());
  for (unsigned i : stateResults)
    erasedResults.set(i);
  if (failed(func.eraseResults(erasedResults)))
    return failure();
  for (auto [position, k] : llvm::enumerate(resultKinds))
    if (failed(func.insertResult(position, kindType(k), kindAttrs(k))))
      return failure();

  // Merged ops went before the terminator, after some of their users.
  if (!sortTopologically(&block))
    return func.emitError("mpc-flatten-training-state: cyclic use-def "
                          "chain after merging (a bug)");
  // The sort may have hoisted a state write above reads of the state it
  // overwrites (the step counter's increment above the optimizer reading
  // the old step): valid for tensors, but a write into the argument's
  // buffer that no bufferization can order. The writes go last.
  // Collected first: moving while walking would revisit the moved writes.
  Operation *terminator = block.getTerminator();
  SmallVector<Operation *> stateWrites;
  for (Operation &op : block)
    if (auto write = dyn_cast<bufferization::MaterializeInDestinationOp>(op);
        write && isa<BlockArgument>(write.getDest()) &&
        llvm::all_of(write->getUsers(),
                     [&](Operation *user) { return user == terminator; }))
      stateWrites.push_back(write);
  for (Operation *write : stateWrites)
    write->moveBefore(terminator);
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
    if (isOpTriviallyDead(&op))
      op.erase();
  for (Operation &op : block)
    if (isa<SGDUpdateOp, MomentumUpdateOp, AdamUpdateOp>(op) &&
        !mergedOps.contains(&op))
      op.emitWarning("mpc-flatten-training-state: this optimizer update "
                     "stays one per parameter: the updates of its kind "
                     "differ in hyperparameters or do not cover every "
                     "parameter");
  return success();
}

void FlattenTrainingState::rewriteCall(func::CallOp call, func::FuncOp callee,
                                       ArrayRef<unsigned> stateArgs,
                                       ArrayRef<unsigned> stateResults,
                                       ArrayRef<unsigned> takenKinds,
                                       ArrayRef<unsigned> resultKinds) {
  OpBuilder b(call);
  Location loc = call.getLoc();
  // Slots the call does not pass start undefined, as in a fresh buffer.
  SmallVector<Value> operands;
  for (unsigned k : takenKinds) {
    Value flat = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{layout.kinds[k].size}, layout.kinds[k].element);
    for (unsigned i : stateArgs) {
      const Slot &slot = layout.slots[layout.byName.lookup(
          callee.getArgAttrOfType<SlotAttr>(i, MPCDialect::kSlotAttrName))];
      if (slot.kind == k)
        flat = insertRange(b, loc, toFlat(b, loc, call.getOperand(i)), flat,
                           slot.offsetInKind);
    }
    operands.push_back(flat);
  }
  for (auto [i, operand] : llvm::enumerate(call.getOperands()))
    if (!llvm::is_contained(stateArgs, i))
      operands.push_back(operand);
  SmallVector<Type> resultTypes = llvm::map_to_vector(
      resultKinds, [&](unsigned k) -> Type { return kindType(k); });
  for (auto [i, type] : llvm::enumerate(call.getResultTypes()))
    if (!llvm::is_contained(stateResults, i))
      resultTypes.push_back(type);
  auto newCall =
      func::CallOp::create(b, loc, call.getCallee(), resultTypes, operands);
  unsigned next = resultKinds.size();
  for (auto [i, result] : llvm::enumerate(call.getResults())) {
    if (!llvm::is_contained(stateResults, i)) {
      result.replaceAllUsesWith(newCall.getResult(next++));
      continue;
    }
    const Slot &slot = layout.slots[layout.byName.lookup(
        callee.getResultAttrOfType<SlotAttr>(i, MPCDialect::kSlotAttrName))];
    Value flat =
        newCall.getResult(llvm::find(resultKinds, slot.kind) -
                          resultKinds.begin());
    result.replaceAllUsesWith(fromFlat(
        b, loc,
        extractRange(b, loc, flat, slot.offsetInKind,
                     slot.type.getNumElements()),
        slot.type));
  }
  call.erase();
}

void FlattenTrainingState::runOnOperation() {
  ModuleOp module = getOperation();
  if (failed(buildLayout(module)))
    return signalPassFailure();
  if (layout.slots.empty())
    return;
  if (module->hasAttr(MPCDialect::kStateLayoutAttrName)) {
    module.emitError("mpc-flatten-training-state: the state is already "
                     "flattened");
    return signalPassFailure();
  }
  for (auto func : llvm::to_vector(module.getOps<func::FuncOp>()))
    if (failed(rewriteFunction(func)))
      return signalPassFailure();
  MLIRContext *context = module.getContext();
  SmallVector<SlotRangeAttr> slots;
  SmallVector<KindRangeAttr> kinds;
  for (const Slot &slot : layout.slots)
    slots.push_back(
        SlotRangeAttr::get(context, slot.name, layout.offsetOf(slot)));
  for (const Kind &kind : layout.kinds)
    kinds.push_back(
        KindRangeAttr::get(context, kind.name, kind.offset, kind.size));
  module->setAttr(MPCDialect::kStateLayoutAttrName,
                  StateLayoutAttr::get(context, layout.elements, kinds, slots));
}
