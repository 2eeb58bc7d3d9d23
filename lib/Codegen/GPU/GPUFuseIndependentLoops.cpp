//===- GPUFuseIndependentLoops.cpp - one kernel for independent loops -----===//
//
// Consecutive parallel loop nests that touch disjoint buffers can run as
// one kernel: their iteration spaces are laid end to end in one 1-D loop,
// and each iteration runs the nest whose range it falls in. This is what
// makes the optimizer update of all parameters one launch (PyTorch's
// multi-tensor apply), and merges the other independent elementwise work,
// such as the fills of several accumulators.
//
//===----------------------------------------------------------------------===//

#include "mpc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetOperations.h"

#include <limits>

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUFUSEINDEPENDENTLOOPS
#include "mpc/Codegen/GPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

/// The buffer a memref value views (through subviews, reshapes, casts).
Value rootBuffer(Value memref) {
  while (Operation *def = memref.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    memref = view.getViewSource();
  }
  return memref;
}

/// The elements of a buffer an access may touch: [begin, end), from the
/// static layout of the view it goes through (the whole buffer when that
/// is not static). Slots of the flat training state are disjoint ranges
/// of one buffer.
struct Span {
  int64_t begin = 0, end = std::numeric_limits<int64_t>::max();
  bool overlaps(const Span &other) const {
    return begin < other.end && other.begin < end;
  }
};

Span spanOf(Value memref) {
  // Layout offsets count elements of the root buffer through subviews and
  // reshapes; memref.view shifts the base by bytes instead.
  Value root = memref;
  while (Operation *def = root.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    if (!isa<memref::SubViewOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp>(def))
      return Span();
    root = view.getViewSource();
  }
  auto type = dyn_cast<MemRefType>(memref.getType());
  auto rootType = dyn_cast<MemRefType>(root.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!type || !rootType || !type.hasStaticShape() ||
      !rootType.getLayout().isIdentity() ||
      failed(type.getStridesAndOffset(strides, offset)) ||
      ShapedType::isDynamic(offset) ||
      llvm::any_of(strides, ShapedType::isDynamic) || type.getNumElements() == 0)
    return Span();
  int64_t last = offset;
  for (auto [size, stride] : llvm::zip(type.getShape(), strides)) {
    if (stride < 0)
      return Span();
    last += (size - 1) * stride;
  }
  return Span{offset, last + 1};
}

/// The buffers a nest reads or writes, each with the spans it touches.
using Accesses = llvm::SmallDenseMap<Value, SmallVector<Span, 2>, 8>;

void addAccess(Accesses &accesses, Value memref) {
  accesses[rootBuffer(memref)].push_back(spanOf(memref));
}

/// Whether `a` and `b` touch a common element of a common buffer.
bool overlap(const Accesses &a, const Accesses &b) {
  for (const auto &[buffer, spans] : a) {
    auto it = b.find(buffer);
    if (it == b.end())
      continue;
    for (const Span &x : spans)
      for (const Span &y : it->second)
        if (x.overlaps(y))
          return true;
  }
  return false;
}

/// A loop nest a group can take: its trip counts and the buffers it reads
/// and writes.
struct Candidate {
  scf::ParallelOp loop;
  SmallVector<int64_t> tripCounts;
  int64_t iterations = 1;
  Accesses reads, writes;
  /// The values from outside the nest its body uses: they become kernel
  /// parameters.
  llvm::SetVector<Value> captured;
};

/// Bytes of kernel parameters `values` take: one 8-byte slot each at most
/// (mpc-gpu-pipeline passes memrefs to kernels as bare pointers; a full
/// descriptor would be 3 + 2 * rank slots).
int64_t parameterBytes(const llvm::SetVector<Value> &values) {
  return 8 * static_cast<int64_t>(values.size());
}

std::optional<Candidate> analyse(scf::ParallelOp loop) {
  if (loop.getNumReductions() != 0)
    return std::nullopt;
  Candidate c;
  c.loop = loop;
  for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                       loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> l = getConstantIntValue(lb),
                           u = getConstantIntValue(ub),
                           s = getConstantIntValue(step);
    if (!l || !u || !s || *l != 0 || *s != 1 || *u <= 0)
      return std::nullopt;
    c.tripCounts.push_back(*u);
    c.iterations *= *u;
  }
  WalkResult walk = loop.getBody()->walk([&](Operation *op) {
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      addAccess(c.reads, load.getMemRef());
      return WalkResult::advance();
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      addAccess(c.writes, store.getMemRef());
      return WalkResult::advance();
    }
    // The square root mpc-gpu-approximate-math emits is arithmetic.
    if (auto intrinsic = dyn_cast<LLVM::CallIntrinsicOp>(op))
      if (intrinsic.getIntrin() == "llvm.nvvm.sqrt.rn.f")
        return WalkResult::advance();
    // Anything else that touches memory (or might) keeps the nest alone.
    if (isa<scf::ParallelOp>(op) || !isMemoryEffectFree(op)) {
      if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() &&
          !isa<scf::ParallelOp>(op))
        return WalkResult::advance(); // scf.for / scf.if: their bodies count
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return std::nullopt;
  loop.getBody()->walk([&](Operation *op) {
    for (Value operand : op->getOperands())
      if (!loop->isAncestor(operand.getParentRegion()->getParentOp()))
        c.captured.insert(operand);
  });
  return c;
}

/// Whether `a` and `b` can run at the same time: neither writes an
/// element the other reads or writes. Distinct function arguments are
/// distinct buffers (mpc's runtimes pass each input, and each kind of
/// training state, in its own).
bool independent(const Candidate &a, const Candidate &b) {
  return !overlap(a.writes, b.reads) && !overlap(a.writes, b.writes) &&
         !overlap(b.writes, a.reads);
}

struct GPUFuseIndependentLoops
    : mpc::impl::MPCGPUFuseIndependentLoopsBase<GPUFuseIndependentLoops> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    std::vector<Candidate> group;
    for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        std::optional<Candidate> c = analyse(loop);
        if (c && (int64_t)group.size() < maxLoops && fitsParameters(group, *c) &&
            llvm::all_of(group, [&](const Candidate &member) {
              return independent(member, *c);
            })) {
          group.push_back(std::move(*c));
          continue;
        }
        fuse(group);
        if (c)
          group.push_back(std::move(*c));
        continue;
      }
      // Ops that do not touch memory (constants, views, allocations) can
      // stay where they are: the fused loop goes where the group's last
      // loop was, after all of them. Anything else orders the loops.
      auto effects = dyn_cast<MemoryEffectOpInterface>(&op);
      bool harmless = isMemoryEffectFree(&op) ||
                      (effects && effects.onlyHasEffect<MemoryEffects::Allocate>());
      if (!harmless)
        fuse(group);
    }
    fuse(group);
  }

  /// Whether the kernel of `group` and `c` stays within the parameter
  /// budget (PTX before ISA 8.1 allows 4352 bytes of kernel parameters).
  bool fitsParameters(ArrayRef<Candidate> group, const Candidate &c) {
    llvm::SetVector<Value> all = c.captured;
    for (const Candidate &member : group)
      all.insert(member.captured.begin(), member.captured.end());
    return parameterBytes(all) <= maxParameterBytes;
  }

  /// Replaces the loops of `group` (two or more) with one 1-D loop over
  /// their iterations laid end to end; each iteration runs the body of the
  /// nest its index falls in, on that nest's delinearized indices.
  void fuse(std::vector<Candidate> &group) {
    if (group.size() < 2) {
      group.clear();
      return;
    }
    scf::ParallelOp last = group.back().loop;
    OpBuilder b(last->getContext());
    b.setInsertionPointAfter(last);
    Location loc = group.front().loop.getLoc();
    int64_t total = 0;
    for (const Candidate &c : group)
      total += c.iterations;
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value end = arith::ConstantIndexOp::create(b, loc, total);
    auto fused = scf::ParallelOp::create(b, loc, ValueRange{zero},
                                         ValueRange{end}, ValueRange{one});
    b.setInsertionPoint(fused.getBody()->getTerminator());
    Value index = fused.getInductionVars()[0];
    int64_t offset = 0;
    for (Candidate &c : group) {
      Value lo = arith::ConstantIndexOp::create(b, loc, offset);
      Value hi = arith::ConstantIndexOp::create(b, loc, offset + c.iterations);
      Value inRange = arith::AndIOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, index, lo),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index, hi));
      auto branch = scf::IfOp::create(b, loc, inRange);
      OpBuilder inner = OpBuilder::atBlockBegin(branch.thenBlock());
      // Row-major delinearization of (index - offset) over the trip counts.
      Value local = arith::SubIOp::create(inner, loc, index, lo);
      SmallVector<Value> ivs(c.tripCounts.size());
      for (int64_t d = c.tripCounts.size() - 1; d >= 0; --d) {
        Value count = arith::ConstantIndexOp::create(inner, loc, c.tripCounts[d]);
        ivs[d] = d == 0 ? local : arith::RemUIOp::create(inner, loc, local, count);
        if (d != 0)
          local = arith::DivUIOp::create(inner, loc, local, count);
      }
      IRMapping mapping;
      mapping.map(c.loop.getInductionVars(), ivs);
      inner.setInsertionPoint(branch.thenBlock()->getTerminator());
      for (Operation &op : c.loop.getBody()->without_terminator())
        inner.clone(op, mapping);
      offset += c.iterations;
    }
    for (Candidate &c : group)
      c.loop.erase();
    group.clear();
  }
};

} // namespace
