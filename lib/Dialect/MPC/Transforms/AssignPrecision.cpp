//===- AssignPrecision.cpp - choose a precision per op --------------------===//
//
// Classes come from the policy (defaults, policy file, node pins). Allow
// and deny ops are fixed; infer ops downstream of a deny op are forced to
// fp32. The remaining infer and clear ops are decided either by a minimum
// cut (algorithm=global) or by TensorFlow's painting (algorithm=greedy).
//
// The min-cut model: every floating-point value is cast at most once per
// target type, right after it is defined, and that cast serves all its
// readers. So a value costs `bytes(cast)` exactly when its producer and
// its readers do not all agree on a precision: a hyperedge over
// {producer} U readers. With labels LOW (source side) and FP32 (sink
// side), [some member is LOW] + [some member is FP32] is that cost plus a
// constant; each indicator is one auxiliary node (Kohli et al.'s P^n Potts
// construction for two labels), so the optimum of the whole program is one
// s-t min cut.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Dialect/MPC/Transforms/PrecisionPolicy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

#include <deque>
#include <limits>

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCASSIGNPRECISION
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

//===----------------------------------------------------------------------===//
// Max flow (Dinic)
//===----------------------------------------------------------------------===//

class MaxFlow {
public:
  static constexpr int64_t kInfinity = std::numeric_limits<int64_t>::max() / 4;

  explicit MaxFlow(int numNodes) : adjacency(numNodes) {}
  int addNode() {
    adjacency.emplace_back();
    return adjacency.size() - 1;
  }
  void addEdge(int from, int to, int64_t capacity) {
    if (from == to || capacity <= 0)
      return;
    adjacency[from].push_back(edges.size());
    edges.push_back({to, capacity});
    adjacency[to].push_back(edges.size());
    edges.push_back({from, 0});
  }

  void run(int source, int sink) {
    while (buildLevels(source, sink)) {
      next.assign(adjacency.size(), 0);
      while (push(source, sink, kInfinity) > 0) {
      }
    }
  }

  /// After run(): nodes on the source side of the minimum cut.
  std::vector<bool> sourceSide(int source) const {
    std::vector<bool> reached(adjacency.size(), false);
    std::deque<int> queue = {source};
    reached[source] = true;
    while (!queue.empty()) {
      int node = queue.front();
      queue.pop_front();
      for (int e : adjacency[node])
        if (edges[e].capacity > 0 && !reached[edges[e].to]) {
          reached[edges[e].to] = true;
          queue.push_back(edges[e].to);
        }
    }
    return reached;
  }

private:
  struct Edge {
    int to;
    int64_t capacity;
  };

  bool buildLevels(int source, int sink) {
    level.assign(adjacency.size(), -1);
    std::deque<int> queue = {source};
    level[source] = 0;
    while (!queue.empty()) {
      int node = queue.front();
      queue.pop_front();
      for (int e : adjacency[node])
        if (edges[e].capacity > 0 && level[edges[e].to] < 0) {
          level[edges[e].to] = level[node] + 1;
          queue.push_back(edges[e].to);
        }
    }
    return level[sink] >= 0;
  }

  // Iterative DFS would avoid deep recursion; the level graph's depth is
  // bounded by the program's dataflow depth plus a few auxiliary hops.
  int64_t push(int node, int sink, int64_t flow) {
    if (node == sink)
      return flow;
    for (size_t &i = next[node]; i < adjacency[node].size(); ++i) {
      int e = adjacency[node][i];
      Edge &edge = edges[e];
      if (edge.capacity <= 0 || level[edge.to] != level[node] + 1)
        continue;
      int64_t pushed = push(edge.to, sink, std::min(flow, edge.capacity));
      if (pushed > 0) {
        edge.capacity -= pushed;
        edges[e ^ 1].capacity += pushed;
        return pushed;
      }
    }
    return 0;
  }

  std::vector<std::vector<int>> adjacency;
  std::vector<Edge> edges;
  std::vector<int> level;
  std::vector<size_t> next;
};

//===----------------------------------------------------------------------===//
// The assignment
//===----------------------------------------------------------------------===//

enum class State { Low, Fp32, Free };

struct OpDecision {
  Operation *op;
  PrecisionClass cls;
  State state;
  std::string reason;
};

/// What a value's producer or a reader needs: a decided op's own choice, or
/// a fixed type.
enum class Side { Op, Low, Fp32, Other };

struct AssignPrecision
    : mpc::impl::MPCAssignPrecisionBase<AssignPrecision> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// A policy entry that can have no effect is most likely a typo: an op
  /// type mpc does not know, a node pattern matching no node. A warning,
  /// an error under --strict.
  LogicalResult checkPolicyAgainstModel(ModuleOp module,
                                        const PrecisionPolicy &policy,
                                        const llvm::StringSet<> &knownTypes,
                                        Location policyLoc);
  LogicalResult decide(func::FuncOp func, const PrecisionPolicy &policy,
                       FloatType lowType);
  /// 'NAME' (OpType); a training step's added ops say their part:
  /// '/fc2/Gemm (grad)' (Gemm).
  std::string describe(Operation *op) {
    std::string name = getNodeName(op);
    TrainingPart part = getTrainingPart(op->getLoc());
    if (name.empty() && part == TrainingPart::Forward)
      name = op->getName().getStringRef().str();
    return "'" + nameWithTrainingPart(name, part) + "' (" +
           getONNXOpType(op) + ")";
  }
  int64_t castWeight(Value value, FloatType lowType);
  Side sideOfType(Type type, FloatType lowType);

  llvm::MapVector<Operation *, OpDecision> decisions;
};

Side AssignPrecision::sideOfType(Type type, FloatType lowType) {
  Type element = cast<ShapedType>(type).getElementType();
  if (element.isF32())
    return Side::Fp32;
  if (element == lowType)
    return Side::Low;
  return Side::Other;
}

int64_t AssignPrecision::castWeight(Value value, FloatType lowType) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t elements = 1;
  for (int64_t dim : type.getShape())
    elements *= ShapedType::isDynamic(dim) ? dynamicDimSize.getValue() : dim;
  // A cast reads one type and writes the other. Scaled so that the
  // tie-breaking bias (1 per op) never outweighs a real byte.
  int64_t bytes = elements * (4 + lowType.getWidth() / 8);
  return std::min<int64_t>(bytes, int64_t(1) << 40) * 1'000'000;
}

LogicalResult AssignPrecision::decide(func::FuncOp func,
                                      const PrecisionPolicy &policy,
                                      FloatType lowType) {
  decisions.clear();
  bool ok = true;
  std::string lowName = lowType.isBF16() ? "bf16" : "fp16";

  // 1. Classes, node pins and the fixed decisions.
  func.walk([&](Operation *op) {
    if (!isPrecisionDecided(op))
      return;
    std::string opType = getONNXOpType(op);
    std::string name = getNodeName(op);
    OpDecision decision{op, PrecisionClass::Infer, State::Free, ""};
    auto cls = policy.lookup(opType);
    if (!cls) {
      if (strict) {
        op->emitError() << "op type '" << opType << "' of node "
                        << describe(op)
                        << " has no precision class (strict mode)";
        ok = false;
        return;
      }
      op->emitWarning() << "op type '" << opType
                        << "' has no precision class; inferring it";
      cls = {PrecisionClass::Infer, ClassSource::Unknown};
    }
    decision.cls = cls->first;
    std::string classText = (stringifyPrecisionClass(cls->first) + " (" +
                             stringifyClassSource(cls->second) + " list)")
                                .str();
    if (cls->second == ClassSource::Unknown)
      classText = "infer (unknown op type)";
    if (cls->second == ClassSource::Unknown &&
        !isa<InferTypeOpInterface>(op)) {
      // Without type inference its result types cannot follow a new
      // operand type: it stays as it is.
      decision.state = State::Fp32;
      decision.reason = "infer (unknown op type): kept fp32, its result types "
                        "cannot be re-inferred";
    } else if (const auto *pin =
                   name.empty() ? nullptr : policy.findPin(name)) {
      decision.state = pin->low ? State::Low : State::Fp32;
      decision.reason = "node override '" + pin->pattern + "' in policy";
    } else if (decision.cls == PrecisionClass::Allow) {
      decision.state = State::Low;
      decision.reason = classText;
    } else if (decision.cls == PrecisionClass::Deny) {
      decision.state = State::Fp32;
      decision.reason = classText;
    } else {
      decision.reason = classText;
    }
    decisions.insert({op, decision});
  });
  if (!ok)
    return failure();

  auto followingUsers = [&](Operation *op, auto &&fn) {
    for (OpResult result : op->getResults()) {
      if (!resultFollowsOp(op, result.getResultNumber()))
        continue;
      for (OpOperand &use : result.getUses()) {
        auto it = decisions.find(use.getOwner());
        if (it != decisions.end() &&
            getOperandRole(use.getOwner(), use.getOperandNumber()) ==
                OperandRole::FollowOp)
          fn(it->second);
      }
    }
  };
  auto followingProducers = [&](Operation *op, auto &&fn) {
    for (OpOperand &operand : op->getOpOperands()) {
      if (getOperandRole(op, operand.getOperandNumber()) !=
          OperandRole::FollowOp)
        continue;
      auto result = dyn_cast<OpResult>(operand.get());
      if (!result || !resultFollowsOp(result.getOwner(),
                                      result.getResultNumber()))
        continue;
      auto it = decisions.find(result.getOwner());
      if (it != decisions.end())
        fn(it->second);
    }
  };

  // 2. Deny ops' outputs may not fit the low type (Exp, sums): infer ops
  // downstream of one, through infer and clear ops, stay fp32.
  {
    std::deque<std::pair<OpDecision *, OpDecision *>> queue;
    for (auto &[op, decision] : decisions)
      if (decision.cls == PrecisionClass::Deny && decision.state == State::Fp32)
        queue.push_back({&decision, &decision});
    llvm::DenseSet<Operation *> visited;
    while (!queue.empty()) {
      auto [current, origin] = queue.front();
      queue.pop_front();
      followingUsers(current->op, [&](OpDecision &user) {
        if (user.state != State::Free || !visited.insert(user.op).second)
          return;
        if (user.cls == PrecisionClass::Infer) {
          user.state = State::Fp32;
          user.reason = "fp32: downstream of deny op " + describe(origin->op);
        }
        if (user.cls == PrecisionClass::Infer ||
            user.cls == PrecisionClass::Clear)
          queue.push_back({&user, origin});
      });
    }
  }

  if (algorithm == "greedy") {
    // 3a. TensorFlow's painting. Infer ops both downstream and upstream of
    // low ops (through infer and clear ops) go low...
    auto reach = [&](bool downstream) {
      llvm::DenseMap<Operation *, Operation *> reachedFrom;
      std::deque<std::pair<OpDecision *, Operation *>> queue;
      for (auto &[op, decision] : decisions)
        if (decision.state == State::Low)
          queue.push_back({&decision, op});
      while (!queue.empty()) {
        auto [current, origin] = queue.front();
        queue.pop_front();
        auto visit = [&, origin = origin](OpDecision &next) {
          if (next.state != State::Free || reachedFrom.count(next.op))
            return;
          reachedFrom[next.op] = origin;
          queue.push_back({&next, origin});
        };
        if (downstream)
          followingUsers(current->op, visit);
        else
          followingProducers(current->op, visit);
      }
      return reachedFrom;
    };
    auto below = reach(/*downstream=*/true);
    auto above = reach(/*downstream=*/false);
    for (auto &[op, decision] : decisions)
      if (decision.state == State::Free &&
          decision.cls != PrecisionClass::Clear && below.count(op) &&
          above.count(op)) {
        decision.state = State::Low;
        decision.reason = "greedy: between low-precision ops " +
                          describe(below[op]) + " and " + describe(above[op]);
      }
    // ...then clear ops connected to low ops through clear ops.
    std::deque<OpDecision *> queue;
    for (auto &[op, decision] : decisions)
      if (decision.state == State::Low)
        queue.push_back(&decision);
    while (!queue.empty()) {
      OpDecision *current = queue.front();
      queue.pop_front();
      auto visit = [&](OpDecision &next) {
        if (next.state != State::Free || next.cls != PrecisionClass::Clear)
          return;
        next.state = State::Low;
        next.reason = "greedy: clear op next to low-precision op " +
                      describe(current->op);
        queue.push_back(&next);
      };
      followingUsers(current->op, visit);
      followingProducers(current->op, visit);
    }
    for (auto &[op, decision] : decisions)
      if (decision.state == State::Free) {
        decision.state = State::Fp32;
        decision.reason = "greedy: not between low-precision ops";
      }
    return success();
  }

  // 3b. The global optimum: a min cut over cast bytes.
  constexpr int source = 0, sink = 1;
  MaxFlow graph(2);
  llvm::DenseMap<Operation *, int> nodeOf;
  for (auto &[op, decision] : decisions)
    if (decision.state == State::Free) {
      nodeOf[op] = graph.addNode();
      // Ties: infer ops stay fp32 unless low saves casts; clear ops go
      // low (smaller tensors to move).
      if (decision.cls == PrecisionClass::Clear)
        graph.addEdge(source, nodeOf[op], 1);
      else
        graph.addEdge(nodeOf[op], sink, 1);
    }
  auto terminalOf = [&](Operation *op) {
    return decisions.lookup(op).state == State::Low ? source : sink;
  };

  auto addValue = [&](Value value) {
    if (!isa<RankedTensorType>(value.getType()) ||
        !isa<FloatType>(cast<RankedTensorType>(value.getType()).getElementType()))
      return;
    bool hasSource = false, hasSink = false;
    llvm::SetVector<int> variables;
    auto addSide = [&](Side side, Operation *op) {
      switch (side) {
      case Side::Op:
        if (auto it = nodeOf.find(op); it != nodeOf.end())
          variables.insert(it->second);
        else
          (terminalOf(op) == source ? hasSource : hasSink) = true;
        return true;
      case Side::Low:
        hasSource = true;
        return true;
      case Side::Fp32:
        hasSink = true;
        return true;
      case Side::Other:
        return false;
      }
      return false;
    };

    // The producer.
    Operation *producer = value.getDefiningOp();
    Side producerSide;
    if (producer && decisions.count(producer))
      producerSide = resultFollowsOp(producer,
                                     cast<OpResult>(value).getResultNumber())
                         ? Side::Op
                         : Side::Fp32;
    else if (auto constant = dyn_cast_if_present<ConstantOp>(producer);
             constant && isa<DenseElementsAttr>(constant.getValue()))
      return; // Converted at compile time: free.
    else if (isa_and_present<GetParameterOp>(producer))
      producerSide = Side::Fp32; // fp32 master weights.
    else
      producerSide = sideOfType(value.getType(), lowType);
    if (!addSide(producerSide, producer))
      return; // Another type (fp16 under bf16, f64): a cast either way.

    // The readers.
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (decisions.count(user)) {
        switch (getOperandRole(user, use.getOperandNumber())) {
        case OperandRole::FollowOp:
          addSide(Side::Op, user);
          break;
        case OperandRole::KeepFp32:
          addSide(Side::Fp32, user);
          break;
        case OperandRole::Ignore:
          break;
        }
      } else if (!isa<ShapeOp>(user)) {
        // The function's results, ONNX Casts and foreign ops read the type
        // the value has now.
        addSide(sideOfType(value.getType(), lowType), user);
      }
    }
    if (variables.empty())
      return; // Fixed either way.
    int64_t weight = castWeight(value, lowType);
    if (!hasSource) {
      // [some member is LOW]: a -> T costs `weight` unless all are FP32.
      int a = graph.addNode();
      for (int v : variables)
        graph.addEdge(v, a, MaxFlow::kInfinity);
      if (hasSink)
        graph.addEdge(a, sink, weight);
      else
        graph.addEdge(a, sink, weight);
    }
    if (!hasSink) {
      // [some member is FP32]: S -> b costs `weight` unless all are LOW.
      int b = graph.addNode();
      graph.addEdge(source, b, weight);
      for (int v : variables)
        graph.addEdge(b, v, MaxFlow::kInfinity);
    }
  };
  for (BlockArgument arg : func.getArguments())
    addValue(arg);
  func.walk([&](Operation *op) {
    for (Value result : op->getResults())
      addValue(result);
  });
  graph.run(source, sink);
  std::vector<bool> low = graph.sourceSide(source);

  for (auto &[op, decision] : decisions) {
    auto it = nodeOf.find(op);
    if (it == nodeOf.end())
      continue;
    decision.state = low[it->second] ? State::Low : State::Fp32;
    // Name a neighbour that agrees: the one the choice avoids casting to.
    Operation *neighbour = nullptr;
    auto agree = [&](OpDecision &other) {
      if (!neighbour && other.state == decision.state &&
          !nodeOf.count(other.op))
        neighbour = other.op;
    };
    followingProducers(op, agree);
    followingUsers(op, agree);
    std::string precisionName = decision.state == State::Low ? lowName : "fp32";
    decision.reason = "inferred " + precisionName + " (min cast bytes)";
    if (neighbour)
      decision.reason += ", like " + describe(neighbour);
  }
  return success();
}

LogicalResult AssignPrecision::checkPolicyAgainstModel(
    ModuleOp module, const PrecisionPolicy &policy,
    const llvm::StringSet<> &knownTypes, Location policyLoc) {
  bool ok = true;
  auto report = [&](const Twine &message) {
    if (strict) {
      emitError(policyLoc) << message << " (strict mode)";
      ok = false;
    } else {
      emitWarning(policyLoc) << message;
    }
  };
  // Sorted, so the diagnostics come in a stable order.
  SmallVector<StringRef> unknown;
  for (const auto &entry : policy.classes)
    if (entry.getValue().second == ClassSource::PolicyFile &&
        !knownTypes.contains(entry.getKey()))
      unknown.push_back(entry.getKey());
  llvm::sort(unknown);
  for (StringRef type : unknown) {
    StringRef closest;
    unsigned best = 0;
    for (const auto &known : knownTypes) {
      unsigned distance = type.edit_distance(known.getKey());
      if (closest.empty() || distance < best) {
        closest = known.getKey();
        best = distance;
      }
    }
    std::string hint;
    if (!closest.empty() && best <= std::max<size_t>(1, type.size() / 3))
      hint = "; did you mean '" + closest.str() + "'?";
    report("policy file '" + policyFile + "': op type '" + type +
           "' is not one mpc knows" + hint);
  }
  llvm::StringSet<> nodeNames;
  module.walk([&](Operation *op) {
    if (std::string name = getNodeName(op); !name.empty())
      nodeNames.insert(name);
  });
  for (const PrecisionPolicy::NodePin &pin : policy.pins)
    if (llvm::none_of(nodeNames, [&](const auto &name) {
          return pin.glob.match(name.getKey());
        }))
      report("policy file '" + policyFile + "': node pattern '" +
             pin.pattern + "' matches no node of the model");
  return success(ok);
}

void AssignPrecision::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *context = module.getContext();
  FloatType lowType = parseLowPrecisionType(context, precision);
  if (!lowType) {
    module.emitError() << "precision must be bf16 or fp16, got '" << precision
                       << "'";
    return signalPassFailure();
  }
  if (algorithm != "global" && algorithm != "greedy") {
    module.emitError() << "algorithm must be global or greedy, got '"
                       << algorithm << "'";
    return signalPassFailure();
  }
  PrecisionPolicy policy = PrecisionPolicy::getDefault();
  // The op types mpc knows: its ops' ONNX types and the default lists'.
  llvm::StringSet<> knownTypes;
  for (const auto &entry : policy.classes)
    knownTypes.insert(entry.getKey());
  // Every mpc op that computes in floating point is an ONNX operator with a
  // class in the default lists (its `onnxOpType` in ODS): an op added
  // without one would otherwise only be inferred, with a warning, where a
  // model happens to use it.
  for (RegisteredOperationName name : context->getRegisteredOperations()) {
    if (name.getDialectNamespace() != MPCDialect::getDialectNamespace() ||
        !name.hasInterface<PrecisionOpInterface>())
      continue;
    auto *onnx = name.getInterface<ONNXOpInterface>();
    StringRef type = onnx ? onnx->getONNXOpType() : StringRef();
    knownTypes.insert(type);
    if (type.empty() || !policy.lookup(type)) {
      module.emitError() << "internal: " << name.getStringRef()
                         << (type.empty() ? " declares no onnxOpType"
                                          : " (ONNX " + type.str() +
                                                ") has no class in the "
                                                "default precision lists");
      return signalPassFailure();
    }
  }
  if (!policyFile.empty()) {
    // Diagnostics about the file are located at it, not at the model.
    Location policyLoc = FileLineColLoc::get(context, policyFile, 1, 1);
    FailureOr<PrecisionPolicy> loaded = PrecisionPolicy::load(
        policyFile, [&](const Twine &message) { emitError(policyLoc, message); });
    if (failed(loaded))
      return signalPassFailure();
    policy = std::move(*loaded);
    if (failed(checkPolicyAgainstModel(module, policy, knownTypes, policyLoc)))
      return signalPassFailure();
  }

  module->setAttr("mpc.low_precision", TypeAttr::get(lowType));
  for (auto func : module.getOps<func::FuncOp>()) {
    if (failed(decide(func, policy, lowType)))
      return signalPassFailure();
    for (auto &[op, decision] : decisions)
      op->setAttr(kDecisionAttrName,
                  DecisionAttr::get(context, decision.cls,
                                    decision.state == State::Low,
                                    decision.reason));
  }
}

} // namespace
