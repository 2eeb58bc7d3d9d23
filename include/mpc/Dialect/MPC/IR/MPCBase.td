//===- MPCBase.td - mpc dialect definition, enums, attributes -*- tablegen -*-===//
//
// The mpc dialect is an ONNX-level tensor IR: one op per ONNX operator, with
// the attribute-vs-input variants of different opsets already normalised by
// the importer, plus mpc's own ops for precision boundaries and parameters.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_IR_MPCBASE_TD
#define MPC_DIALECT_MPC_IR_MPCBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mpc/Dialect/MPC/IR/MPCInterfaces.td"

def MPC_Dialect : Dialect {
  let name = "mpc";
  let cppNamespace = "::mlir::mpc";
  let summary = "ONNX-level tensor IR for mixed-precision training";
  let description = [{
    Ops mirror ONNX operators (opset 9 to 17 semantics, normalised), operate
    on ranked tensors whose dimensions may be dynamic, and broadcast by ONNX's
    multidirectional rules. Floating-point compute ops carry an optional
    `#mpc.precision` attribute that the precision passes write and the
    lowering reads. `mpc.cast` is the compiler-inserted precision boundary;
    ONNX's own Cast is `mpc.convert`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  // The training state's attributes (mpc.slot, mpc.state_kind, mpc.role on
  // function arguments and results, mpc.state_layout on the module) are
  // checked where they are attached.
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The discardable attributes of the training-state contract.
    static constexpr ::llvm::StringLiteral kSlotAttrName = "mpc.slot";
    static constexpr ::llvm::StringLiteral kStateKindAttrName = "mpc.state_kind";
    static constexpr ::llvm::StringLiteral kRoleAttrName = "mpc.role";
    static constexpr ::llvm::StringLiteral kStateLayoutAttrName = "mpc.state_layout";
  }];
}

// The ONNX operator type an op declares (`let onnxOpType = "Conv";`) as the
// op's static getONNXOpType().
class MPC_ONNXOpTypeIs<string type>
    : NativeOpTrait<"ONNXOpType", [], [{
        static ::llvm::StringRef getONNXOpType() { return "}] # type # [{"; }
      }]> {
  let cppNamespace = "::mlir::mpc";
}

class MPC_Op<string mnemonic, list<Trait> opTraits = []>
    : Op<MPC_Dialect, mnemonic, opTraits> {
  // The ONNX operator this op is: what precision policies name it by. Empty
  // for mpc's own ops (mpc.cast, parameters).
  string onnxOpType = "";
  let traits = opTraits # [MPC_ONNXOpInterface, MPC_ONNXOpTypeIs<onnxOpType>];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def MPC_AutoPad : I32EnumAttr<"AutoPad", "ONNX auto_pad", [
    I32EnumAttrCase<"NotSet", 0, "notset">,
    I32EnumAttrCase<"SameUpper", 1, "same_upper">,
    I32EnumAttrCase<"SameLower", 2, "same_lower">,
    I32EnumAttrCase<"Valid", 3, "valid">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_AutoPadAttr : EnumAttr<MPC_Dialect, MPC_AutoPad, "auto_pad">;

def MPC_LossReduction : I32EnumAttr<"LossReduction", "loss reduction", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Sum", 1, "sum">,
    I32EnumAttrCase<"Mean", 2, "mean">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_LossReductionAttr
    : EnumAttr<MPC_Dialect, MPC_LossReduction, "reduction">;

def MPC_PadMode : I32EnumAttr<"PadMode", "Pad mode", [
    I32EnumAttrCase<"Constant", 0, "constant">,
    I32EnumAttrCase<"Reflect", 1, "reflect">,
    I32EnumAttrCase<"Edge", 2, "edge">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_PadModeAttr : EnumAttr<MPC_Dialect, MPC_PadMode, "pad_mode">;

def MPC_TrainingPart : I32EnumAttr<"TrainingPart",
    "the part of a training step an op belongs to", [
    I32EnumAttrCase<"Forward", 0, "forward">,
    I32EnumAttrCase<"Loss", 1, "loss">,
    I32EnumAttrCase<"Backward", 2, "backward">,
    I32EnumAttrCase<"Clipping", 3, "clipping">,
    I32EnumAttrCase<"Accumulation", 4, "accumulation">,
    I32EnumAttrCase<"Optimizer", 5, "optimizer">,
    I32EnumAttrCase<"LossScaling", 6, "loss_scaling">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_TrainingPartAttr
    : EnumAttr<MPC_Dialect, MPC_TrainingPart, "training_part"> {
  let assemblyFormat = "`<` $value `>`";
  let description = [{
    The metadata of the fused location `mpc-build-training` and
    `mpc-loss-scaling` give the ops they add: `loc(fused<#mpc.training_part<
    backward>>["/fc2/Gemm"])` is an op of the gradient of node `/fc2/Gemm`.
    A location, not an attribute, because rewrites keep an op's location
    on what replaces it; the precision report and the line tables read it.
  }];
}

def MPC_ResizeMode : I32EnumAttr<"ResizeMode", "Resize interpolation", [
    I32EnumAttrCase<"Nearest", 0, "nearest">,
    I32EnumAttrCase<"Linear", 1, "linear">,
    I32EnumAttrCase<"Cubic", 2, "cubic">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_ResizeModeAttr : EnumAttr<MPC_Dialect, MPC_ResizeMode, "resize_mode">;

def MPC_CoordinateTransform
    : I32EnumAttr<"CoordinateTransform", "Resize coordinate transform", [
    I32EnumAttrCase<"HalfPixel", 0, "half_pixel">,
    I32EnumAttrCase<"PytorchHalfPixel", 1, "pytorch_half_pixel">,
    I32EnumAttrCase<"AlignCorners", 2, "align_corners">,
    I32EnumAttrCase<"Asymmetric", 3, "asymmetric">,
    I32EnumAttrCase<"TfCropAndResize", 4, "tf_crop_and_resize">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_CoordinateTransformAttr
    : EnumAttr<MPC_Dialect, MPC_CoordinateTransform, "coordinate_transform">;

def MPC_NearestMode : I32EnumAttr<"NearestMode", "Resize nearest rounding", [
    I32EnumAttrCase<"RoundPreferFloor", 0, "round_prefer_floor">,
    I32EnumAttrCase<"RoundPreferCeil", 1, "round_prefer_ceil">,
    I32EnumAttrCase<"Floor", 2, "floor">,
    I32EnumAttrCase<"Ceil", 3, "ceil">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_NearestModeAttr
    : EnumAttr<MPC_Dialect, MPC_NearestMode, "nearest_mode">;

def MPC_ScatterReduction
    : I32EnumAttr<"ScatterReduction", "how scattered updates combine", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Add", 1, "add">,
    I32EnumAttrCase<"Mul", 2, "mul">,
    I32EnumAttrCase<"Max", 3, "max">,
    I32EnumAttrCase<"Min", 4, "min">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_ScatterReductionAttr
    : EnumAttr<MPC_Dialect, MPC_ScatterReduction, "scatter_reduction">;

def MPC_GeluApproximation : I32EnumAttr<"GeluApproximation", "Gelu formula", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Tanh", 1, "tanh">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_GeluApproximationAttr
    : EnumAttr<MPC_Dialect, MPC_GeluApproximation, "gelu_approximation">;

def MPC_PrecisionClass : I32EnumAttr<"PrecisionClass",
    "how an op's precision is chosen (TensorFlow AMP's lists)", [
    I32EnumAttrCase<"Allow", 0, "allow">,
    I32EnumAttrCase<"Deny", 1, "deny">,
    I32EnumAttrCase<"Infer", 2, "infer">,
    I32EnumAttrCase<"Clear", 3, "clear">]> {
  let cppNamespace = "::mlir::mpc";
  let genSpecializedAttr = 0;
}
def MPC_PrecisionClassAttr
    : EnumAttr<MPC_Dialect, MPC_PrecisionClass, "precision_class">;

//===----------------------------------------------------------------------===//
// Precision attribute
//===----------------------------------------------------------------------===//

def MPC_PrecisionAttr : AttrDef<MPC_Dialect, "Precision"> {
  let mnemonic = "precision";
  let summary = "the floating-point types an op computes, accumulates and returns in";
  let description = [{
    `compute` is the type operands are read in and elementwise math happens
    in; `accumulate` the type of partial sums of reducing ops (matmul, conv,
    reductions, normalisation statistics); `result` the stored type of the
    floating-point results. Example: `#mpc.precision<bf16, f32, bf16>` is a
    bf16 matmul with fp32 accumulation.
  }];
  let parameters = (ins "::mlir::FloatType":$compute,
                        "::mlir::FloatType":$accumulate,
                        "::mlir::FloatType":$result);
  let assemblyFormat = "`<` $compute `,` $accumulate `,` $result `>`";
  let genVerifyDecl = 1;
}

def MPC_DecisionAttr : AttrDef<MPC_Dialect, "Decision"> {
  let mnemonic = "decision";
  let summary = "the precision mpc-assign-precision chose for an op, and why";
  let description = [{
    Written by `--mpc-assign-precision` on every op it decides, read by
    `--mpc-insert-casts` (which materialises it) and by the precision
    report. `low` says whether the op computes in the low-precision type;
    `reason` names the rule that decided (default list, policy class,
    node override, the neighbour it was inferred from, ...). Example:
    `#mpc.decision<infer, low, "inferred: between low-precision ops">`.
  }];
  let parameters = (ins EnumParameter<MPC_PrecisionClass>:$precision_class,
                        "bool":$low,
                        StringRefParameter<>:$reason);
  let assemblyFormat = [{
    `<` $precision_class `,` custom<LowOrFp32>($low) `,` $reason `>`
  }];
}

//===----------------------------------------------------------------------===//
// Training state
//===----------------------------------------------------------------------===//

// The slot kinds and value roles are the C++ enums of mpc/ABI/ProgramABI.h,
// which the runtime shares; these parameters parse and print their
// spellings.
def MPC_StateKindParameter : AttrParameter<"::mpc_abi::StateKind",
                                           "a training-state slot kind"> {
  let parser = "::mlir::mpc::parseStateKind($_parser)";
  let printer = "$_printer << ::mpc_abi::spelling($_self)";
}

def MPC_ValueRoleParameter : AttrParameter<"::mpc_abi::ValueRole",
                                           "a compiled function's value role"> {
  let parser = "::mlir::mpc::parseValueRole($_parser)";
  let printer = "$_printer << ::mpc_abi::spelling($_self)";
}

def MPC_SlotAttr : AttrDef<MPC_Dialect, "Slot"> {
  let mnemonic = "slot";
  let summary = "one slot of a training program's state";
  let description = [{
    Tags an argument or result of `@init`, `@train_step` and `@eval_step`
    (`mpc.slot`) as training state carried from step to step. A
    per-parameter kind names its weight: `#mpc.slot<adam_m, "fc1.weight">`;
    a scalar kind has no name: `#mpc.slot<step>`.
  }];
  let parameters = (ins MPC_StateKindParameter:$kind,
                        StringRefParameter<"the weight's name", [{""}]>:$parameter);
  let assemblyFormat = "`<` $kind (`,` $parameter^)? `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The slot's name in the descriptor and checkpoints.
    std::string getQualifiedName() const {
      return ::mpc_abi::qualifiedSlotName(getKind(), getParameter().str());
    }
  }];
}

def MPC_StateKindAttr : AttrDef<MPC_Dialect, "StateKind"> {
  let mnemonic = "state_kind";
  let summary = "a whole kind of training state, as one flat buffer";
  let description = [{
    Tags the flat buffer `--mpc-flatten-training-state` passes a function
    for one slot kind (`mpc.state_kind`): `#mpc.state_kind<adam_m>`.
  }];
  let parameters = (ins MPC_StateKindParameter:$kind);
  let assemblyFormat = "`<` $kind `>`";
}

def MPC_RoleAttr : AttrDef<MPC_Dialect, "Role"> {
  let mnemonic = "role";
  let summary = "what a training program's argument or result is for";
  let description = [{
    Tags the arguments and results of a training program that are not
    state and not model inputs (`mpc.role`): the labels, the learning rate
    and weight decay of `@train_step`, and `@eval_step`'s loss and output.
    Example: `#mpc.role<learning_rate>`.
  }];
  let parameters = (ins MPC_ValueRoleParameter:$role);
  let assemblyFormat = "`<` $role `>`";
}

def MPC_KindRangeAttr : AttrDef<MPC_Dialect, "KindRange"> {
  let mnemonic = "kind_range";
  let summary = "where one slot kind lies in the flat training state";
  let description = [{
    `offset` is in 4-byte units from the state's start, `size` in elements
    of the kind's type (f32, or i64 for counters):
    `#mpc.kind_range<adam_m, offset = 128, size = 6>`.
  }];
  let parameters = (ins MPC_StateKindParameter:$kind, "int64_t":$offset,
                        "int64_t":$size);
  let assemblyFormat =
      "`<` $kind `,` `offset` `=` $offset `,` `size` `=` $size `>`";
}

def MPC_SlotRangeAttr : AttrDef<MPC_Dialect, "SlotRange"> {
  let mnemonic = "slot_range";
  let summary = "where one slot lies in the flat training state";
  let description = [{
    `offset` is in 4-byte units from the state's start:
    `#mpc.slot_range<#mpc.slot<param, "w">, offset = 0>`.
  }];
  let parameters = (ins "SlotAttr":$slot, "int64_t":$offset);
  let assemblyFormat = "`<` $slot `,` `offset` `=` $offset `>`";
}

def MPC_StateLayoutAttr : AttrDef<MPC_Dialect, "StateLayout"> {
  let mnemonic = "state_layout";
  let summary = "the flat training state of a module's functions";
  let description = [{
    Written on the module by `--mpc-flatten-training-state` (`mpc.state_layout`):
    the state's size in 4-byte units, each kind's range and each slot's
    offset, for the buffer plan, the descriptor and the device runtime.
  }];
  let parameters = (ins "int64_t":$elements,
                        ArrayRefParameter<"KindRangeAttr">:$kinds,
                        ArrayRefParameter<"SlotRangeAttr">:$slots);
  let assemblyFormat = [{
    `<` `elements` `=` $elements `,` `kinds` `=` `[` $kinds `]` `,`
        `slots` `=` `[` $slots `]` `>`
  }];
  let genVerifyDecl = 1;
}

#endif // MPC_DIALECT_MPC_IR_MPCBASE_TD
