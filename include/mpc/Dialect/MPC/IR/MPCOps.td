//===- MPCOps.td - mpc dialect operations ------------------*- tablegen -*-===//
//
// One op per ONNX operator. Attribute-vs-input variants across opsets are
// normalised by the importer: axes, pads, slice bounds, split sizes, clip
// bounds and resize scales are attributes here; only tensors whose values
// may be computed at run time (Reshape/Expand shapes, Gather indices) stay
// operands.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_IR_MPCOPS_TD
#define MPC_DIALECT_MPC_IR_MPCOPS_TD

include "mpc/Dialect/MPC/IR/MPCBase.td"
include "mpc/Dialect/MPC/IR/MPCInterfaces.td"
include "mlir/Interfaces/CastInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

//===----------------------------------------------------------------------===//
// Type constraints and shared traits
//===----------------------------------------------------------------------===//

def MPC_FloatTensor : RankedTensorOf<[AnyFloat]>;
def MPC_NumericTensor : RankedTensorOf<[AnyFloat, AnyInteger]>;
def MPC_Tensor : RankedTensorOf<[AnyType]>;
def MPC_IndexTensor : RankedTensorOf<[I32, I64]>;
def MPC_ShapeTensor : 1DTensorOf<[I64]>;
def MPC_BoolTensor : RankedTensorOf<[I1]>;

def MPC_OptPrecision : OptionalAttr<MPC_PrecisionAttr>;

// Result types are inferred from operands and attributes (the shapes ONNX
// shape inference found may be more static than what the op alone implies,
// so a result type is accepted when it refines the inferred one).
def MPC_InferTypes : InferTypeOpAdaptorBase<[{
  static bool isCompatibleReturnTypes(::mlir::TypeRange inferred,
                                      ::mlir::TypeRange actual) {
    return ::mlir::mpc::areRefinedTypes(inferred, actual);
  }
}]>;

class MPC_ComputeOp<string mnemonic, list<Trait> traits = []>
    : MPC_Op<mnemonic, traits # [Pure, MPC_InferTypes, MPC_PrecisionOpInterface]>;

class MPC_AccumulatingOp<string mnemonic, list<Trait> traits = []>
    : MPC_Op<mnemonic, traits # [Pure, MPC_InferTypes,
        DeclareOpInterfaceMethods<MPC_PrecisionOpInterface, ["isAccumulating"]>]>;

class MPC_DataOp<string mnemonic, list<Trait> traits = []>
    : MPC_Op<mnemonic, traits # [Pure, MPC_InferTypes]> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class MPC_UnaryOp<string mnemonic, Type operandType = MPC_FloatTensor,
                  list<Trait> traits = []>
    : MPC_ComputeOp<mnemonic, traits> {
  let summary = "elementwise " # mnemonic;
  let arguments = (ins operandType:$input, MPC_OptPrecision:$precision);
  let results = (outs operandType:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferElementwiseTypes(location, adaptor.getOperands(),
                                               adaptor.getPrecisionAttr(),
                                               /*resultElementType=*/nullptr,
                                               inferred);
    }
  }];
}

def MPC_SqrtOp : MPC_UnaryOp<"sqrt", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Sqrt";
}
def MPC_ExpOp : MPC_UnaryOp<"exp", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Exp";
}
def MPC_LogOp : MPC_UnaryOp<"log", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Log";
}
def MPC_ReciprocalOp : MPC_UnaryOp<"reciprocal", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Reciprocal";
}
def MPC_ErfOp : MPC_UnaryOp<"erf", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Erf";
}
def MPC_SigmoidOp : MPC_UnaryOp<"sigmoid", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Sigmoid";
}
def MPC_TanhOp : MPC_UnaryOp<"tanh", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Tanh";
}
def MPC_SoftplusOp : MPC_UnaryOp<"softplus", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Softplus";
}
def MPC_HardSwishOp : MPC_UnaryOp<"hard_swish", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "HardSwish";
}
def MPC_ReluOp : MPC_UnaryOp<"relu", MPC_NumericTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Relu";
}
def MPC_NegOp : MPC_UnaryOp<"neg", MPC_NumericTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Neg";
}
def MPC_AbsOp : MPC_UnaryOp<"abs", MPC_NumericTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Abs";
}

// Trigonometric and hyperbolic functions and their inverses.
// Trigonometric and hyperbolic functions and their inverses.
def MPC_SinOp : MPC_UnaryOp<"sin", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Sin";
}
def MPC_CosOp : MPC_UnaryOp<"cos", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Cos";
}
def MPC_TanOp : MPC_UnaryOp<"tan", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Tan";
}
def MPC_AsinOp : MPC_UnaryOp<"asin", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Asin";
}
def MPC_AcosOp : MPC_UnaryOp<"acos", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Acos";
}
def MPC_AtanOp : MPC_UnaryOp<"atan", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Atan";
}
def MPC_SinhOp : MPC_UnaryOp<"sinh", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Sinh";
}
def MPC_CoshOp : MPC_UnaryOp<"cosh", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Cosh";
}
def MPC_AsinhOp : MPC_UnaryOp<"asinh", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Asinh";
}
def MPC_AcoshOp : MPC_UnaryOp<"acosh", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Acosh";
}
def MPC_AtanhOp : MPC_UnaryOp<"atanh", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Atanh";
}

// Rounding: piecewise constant, so their gradient is zero.
def MPC_CeilOp : MPC_UnaryOp<"ceil", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Ceil";
}
def MPC_FloorOp : MPC_UnaryOp<"floor", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Floor";
}
def MPC_RoundOp : MPC_UnaryOp<"round", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Round";
  let summary = "round half to even (ONNX Round)";
}
def MPC_SignOp : MPC_UnaryOp<"sign", MPC_NumericTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Sign";
  let summary = "-1, 0 or 1 by the sign of each element (0 for NaN)";
}

def MPC_LeakyReluOp : MPC_UnaryOp<"leaky_relu", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "LeakyRelu";
  let arguments = (ins MPC_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.01">:$alpha,
                       MPC_OptPrecision:$precision);
}

def MPC_HardSigmoidOp : MPC_UnaryOp<"hard_sigmoid", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "HardSigmoid";
  let summary = "max(0, min(1, alpha * x + beta))";
  let arguments = (ins MPC_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.2">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.5">:$beta,
                       MPC_OptPrecision:$precision);
}

def MPC_GeluOp : MPC_UnaryOp<"gelu", MPC_FloatTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Gelu";
  let arguments = (ins MPC_FloatTensor:$input,
      DefaultValuedAttr<MPC_GeluApproximationAttr,
                        "::mlir::mpc::GeluApproximation::None">:$approximate,
      MPC_OptPrecision:$precision);
}

def MPC_ClipOp : MPC_UnaryOp<"clip", MPC_NumericTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Clip";
  let summary = "clamp to [min, max]; absent bounds are unbounded";
  let arguments = (ins MPC_NumericTensor:$input,
                       OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max,
                       MPC_OptPrecision:$precision);
  let hasVerifier = 1;
}

class MPC_BinaryOp<string mnemonic, Type operandType = MPC_NumericTensor,
                   list<Trait> traits = []>
    : MPC_ComputeOp<mnemonic, traits> {
  let summary = "elementwise " # mnemonic # " with ONNX broadcasting";
  let arguments = (ins operandType:$lhs, operandType:$rhs,
                       MPC_OptPrecision:$precision);
  let results = (outs operandType:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferElementwiseTypes(location, adaptor.getOperands(),
                                               adaptor.getPrecisionAttr(),
                                               /*resultElementType=*/nullptr,
                                               inferred);
    }
  }];
}

def MPC_AddOp : MPC_BinaryOp<"add", MPC_NumericTensor, [Commutative, DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Add";
  let hasFolder = 1;
}
def MPC_SubOp : MPC_BinaryOp<"sub", MPC_NumericTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Sub";
  let hasFolder = 1;
}
def MPC_MulOp : MPC_BinaryOp<"mul", MPC_NumericTensor, [Commutative, DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Mul";
  let hasFolder = 1;
}
def MPC_DivOp : MPC_BinaryOp<"div", MPC_NumericTensor, [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Div";
  let hasFolder = 1;
}
def MPC_MaxOp : MPC_BinaryOp<"max", MPC_NumericTensor, [Commutative, DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Max";
}
def MPC_MinOp : MPC_BinaryOp<"min", MPC_NumericTensor, [Commutative, DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Min";
}

def MPC_PowOp : MPC_ComputeOp<"pow", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Pow";
  let summary = "elementwise power; the exponent may have another element type";
  let arguments = (ins MPC_NumericTensor:$lhs, MPC_NumericTensor:$rhs,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_NumericTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def MPC_ModOp : MPC_ComputeOp<"mod"> {
  let onnxOpType = "Mod";
  let summary = "elementwise remainder with ONNX broadcasting";
  let description = [{
    With `fmod` the remainder has the sign of the dividend (C's fmod, the
    only form ONNX allows for floats); without, integers take the sign of
    the divisor (Python's %).
  }];
  let arguments = (ins MPC_NumericTensor:$lhs, MPC_NumericTensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_NumericTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferElementwiseTypes(location, adaptor.getOperands(),
                                               adaptor.getPrecisionAttr(),
                                               /*resultElementType=*/nullptr,
                                               inferred);
    }
  }];
}

def MPC_BitShiftOp : MPC_Op<"bit_shift", [Pure, MPC_InferTypes]> {
  let onnxOpType = "BitShift";
  let summary = "elementwise shift of unsigned integers, with broadcasting";
  let arguments = (ins RankedTensorOf<[AnyUnsignedInteger]>:$lhs,
                       RankedTensorOf<[AnyUnsignedInteger]>:$rhs,
                       BoolAttr:$left);
  let results = (outs RankedTensorOf<[AnyUnsignedInteger]>:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferElementwiseTypes(location, adaptor.getOperands(),
                                               nullptr, nullptr, inferred);
    }
  }];
}

/// Boolean logic (ONNX And/Or/Xor/Not): no precision, no gradient.
class MPC_LogicalOp<string mnemonic, list<Trait> traits = []>
    : MPC_Op<mnemonic, traits # [Pure, MPC_InferTypes]> {
  let summary = "elementwise logical " # mnemonic # " with broadcasting";
  let arguments = (ins MPC_BoolTensor:$lhs, MPC_BoolTensor:$rhs);
  let results = (outs MPC_BoolTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferElementwiseTypes(location, adaptor.getOperands(),
                                               nullptr, nullptr, inferred);
    }
  }];
}
def MPC_AndOp : MPC_LogicalOp<"and", [Commutative]> { let onnxOpType = "And"; }
def MPC_OrOp : MPC_LogicalOp<"or", [Commutative]> { let onnxOpType = "Or"; }
def MPC_XorOp : MPC_LogicalOp<"xor", [Commutative]> { let onnxOpType = "Xor"; }
def MPC_NotOp : MPC_Op<"not", [Pure, SameOperandsAndResultType]> {
  let onnxOpType = "Not";
  let summary = "elementwise logical not";
  let arguments = (ins MPC_BoolTensor:$input);
  let results = (outs MPC_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

class MPC_CompareOp<string mnemonic, list<Trait> traits = []>
    : MPC_Op<mnemonic, traits # [Pure, MPC_InferTypes]> {
  let summary = "elementwise " # mnemonic # " comparison, boolean result";
  let arguments = (ins MPC_NumericTensor:$lhs, MPC_NumericTensor:$rhs);
  let results = (outs MPC_BoolTensor:$output);
  // Integer constants fold (shape tests such as `rank == 3` in exports).
  let hasFolder = 1;
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferElementwiseTypes(
          location, adaptor.getOperands(), nullptr,
          ::mlir::IntegerType::get(context, 1), inferred);
    }
  }];
}

def MPC_EqualOp : MPC_CompareOp<"equal", [Commutative]> {
  let onnxOpType = "Equal";
}
def MPC_LessOp : MPC_CompareOp<"less"> {
  let onnxOpType = "Less";
}
def MPC_GreaterOp : MPC_CompareOp<"greater"> {
  let onnxOpType = "Greater";
}

def MPC_GreaterOrEqualOp : MPC_CompareOp<"greater_or_equal"> {
  let onnxOpType = "GreaterOrEqual";
}
def MPC_LessOrEqualOp : MPC_CompareOp<"less_or_equal"> {
  let onnxOpType = "LessOrEqual";
}
def MPC_IsNaNOp : MPC_Op<"is_nan", [Pure, MPC_InferTypes]> {
  let onnxOpType = "IsNaN";
  let summary = "whether each element is NaN";
  let arguments = (ins MPC_FloatTensor:$input);
  let results = (outs MPC_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferElementwiseTypes(
          location, adaptor.getOperands(), nullptr,
          ::mlir::IntegerType::get(context, 1), inferred);
    }
  }];
}
def MPC_IsInfOp : MPC_Op<"is_inf", [Pure, MPC_InferTypes]> {
  let onnxOpType = "IsInf";
  let summary = "whether each element is an infinity of the selected signs";
  let arguments = (ins MPC_FloatTensor:$input,
                       DefaultValuedAttr<BoolAttr, "true">:$detect_positive,
                       DefaultValuedAttr<BoolAttr, "true">:$detect_negative);
  let results = (outs MPC_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferElementwiseTypes(
          location, adaptor.getOperands(), nullptr,
          ::mlir::IntegerType::get(context, 1), inferred);
    }
  }];
}

def MPC_WhereOp : MPC_Op<"where", [Pure, MPC_InferTypes, DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Where";
  let summary = "select elementwise by a boolean condition, with broadcasting";
  let arguments = (ins MPC_BoolTensor:$condition, MPC_Tensor:$on_true,
                       MPC_Tensor:$on_false);
  let results = (outs MPC_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Contractions, convolutions, pooling
//===----------------------------------------------------------------------===//

def MPC_MatMulOp : MPC_AccumulatingOp<"matmul", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "MatMul";
  let summary = "numpy matmul with batch broadcasting";
  let arguments = (ins MPC_NumericTensor:$lhs, MPC_NumericTensor:$rhs,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_NumericTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def MPC_GemmOp : MPC_AccumulatingOp<"gemm", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Gemm";
  let summary = "alpha * op(A) * op(B) + beta * C, C broadcast to the result";
  let arguments = (ins MPC_NumericTensor:$a, MPC_NumericTensor:$b,
                       Optional<MPC_NumericTensor>:$c,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0">:$beta,
                       UnitAttr:$trans_a, UnitAttr:$trans_b,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_NumericTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_ConvOp : MPC_AccumulatingOp<"conv", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Conv";
  let summary = "N-d convolution (1 to 3 spatial dims), NC... layout";
  let description = [{
    `pads` holds begin pads of every spatial dim followed by end pads, as in
    ONNX. With `auto_pad` other than `notset` the pads are derived from the
    input shape and `pads` must be absent.
  }];
  let arguments = (ins MPC_FloatTensor:$input, MPC_FloatTensor:$weight,
                       Optional<MPC_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       DefaultValuedAttr<MPC_AutoPadAttr,
                                         "::mlir::mpc::AutoPad::NotSet">:$auto_pad,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_ConvTransposeOp : MPC_AccumulatingOp<"conv_transpose"> {
  let onnxOpType = "ConvTranspose";
  let summary = "N-d transposed convolution, weight layout C x M/group x k...";
  let arguments = (ins MPC_FloatTensor:$input, MPC_FloatTensor:$weight,
                       Optional<MPC_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$output_padding,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_MaxPoolOp : MPC_ComputeOp<"max_pool", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "MaxPool";
  let arguments = (ins MPC_NumericTensor:$input,
                       DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       UnitAttr:$ceil_mode,
                       DefaultValuedAttr<MPC_AutoPadAttr,
                                         "::mlir::mpc::AutoPad::NotSet">:$auto_pad,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_NumericTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_MaxPoolGradOp : MPC_ComputeOp<"max_pool_grad"> {
  let onnxOpType = "MaxPoolGrad";
  let summary = "gradient of a 2-d max pooling whose windows tile the input";
  let description = [{
    For a max pooling of `input` [N, C, H, W] with kernel [KH, KW], the
    stride equal to the kernel, no padding or dilation, and H = OH KH,
    W = OW KW (the windows tile the input, as `MaxPool2d(2)` does on even
    sizes), `grad` [N, C, OH, OW] goes to the first maximum of each window
    in scan order, the element PyTorch routes it to (a NaN counts as the
    maximum); every other element's gradient is 0. The gradient rule of
    `mpc.max_pool` uses it for such poolings and builds the others'
    (overlapping windows, padding) from slices.
  }];
  let arguments = (ins MPC_FloatTensor:$input, MPC_FloatTensor:$grad,
                       DenseI64ArrayAttr:$kernel_shape,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$input_grad);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_AveragePoolOp : MPC_AccumulatingOp<"average_pool", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "AveragePool";
  let arguments = (ins MPC_FloatTensor:$input,
                       DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads,
                       UnitAttr:$ceil_mode,
                       UnitAttr:$count_include_pad,
                       DefaultValuedAttr<MPC_AutoPadAttr,
                                         "::mlir::mpc::AutoPad::NotSet">:$auto_pad,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_GlobalAveragePoolOp : MPC_AccumulatingOp<"global_average_pool", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "GlobalAveragePool";
  let arguments = (ins MPC_FloatTensor:$input, MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Normalisation, softmax, reductions, losses
//===----------------------------------------------------------------------===//

def MPC_SoftmaxOp : MPC_AccumulatingOp<"softmax", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Softmax";
  let summary = "softmax along one axis (opset 13 semantics)";
  let arguments = (ins MPC_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_LogSoftmaxOp : MPC_AccumulatingOp<"log_softmax", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "LogSoftmax";
  let summary = "log-softmax along one axis (opset 13 semantics)";
  let arguments = (ins MPC_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

class MPC_ReduceOp<string mnemonic, list<Trait> traits = []>
    : MPC_AccumulatingOp<mnemonic, traits> {
  let summary = mnemonic # " over `axes` (all axes when empty)";
  let arguments = (ins MPC_NumericTensor:$input,
                       DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_NumericTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferReductionTypes(
          location, adaptor.getInput().getType(), adaptor.getAxes(),
          adaptor.getKeepdims(), adaptor.getPrecisionAttr(), inferred);
    }
  }];
}

def MPC_ReduceSumOp : MPC_ReduceOp<"reduce_sum", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "ReduceSum";
}
def MPC_ReduceMeanOp : MPC_ReduceOp<"reduce_mean", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "ReduceMean";
}
def MPC_ReduceMaxOp : MPC_ReduceOp<"reduce_max", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "ReduceMax";
}

def MPC_ReduceMinOp : MPC_ReduceOp<"reduce_min", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "ReduceMin";
}
def MPC_ReduceProdOp : MPC_ReduceOp<"reduce_prod"> {
  let onnxOpType = "ReduceProd";
}

def MPC_CumSumOp : MPC_AccumulatingOp<"cum_sum", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "CumSum";
  let summary = "running sums along `axis` (ONNX CumSum)";
  let description = [{
    `exclusive` leaves each element out of its own sum; `reverse` sums from
    the end. Sums run in the precision's accumulate type, in order.
  }];
  let arguments = (ins MPC_NumericTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_NumericTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_ArgMaxOp : MPC_Op<"arg_max", [Pure, MPC_InferTypes]> {
  let onnxOpType = "ArgMax";
  let summary = "index (i64) of the largest element along `axis`";
  let description = [{
    Ties go to the first index, or the last with `select_last_index`; a
    NaN counts as larger than any number (the first NaN wins, as in
    numpy and onnxruntime).
  }];
  let arguments = (ins MPC_NumericTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs RankedTensorOf<[I64]>:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferArgReductionTypes(
          location, adaptor.getInput().getType(), adaptor.getAxis(),
          adaptor.getKeepdims(), inferred);
    }
  }];
}
def MPC_ArgMinOp : MPC_Op<"arg_min", [Pure, MPC_InferTypes]> {
  let onnxOpType = "ArgMin";
  let summary = "index (i64) of the smallest element along `axis`";
  let arguments = (ins MPC_NumericTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs RankedTensorOf<[I64]>:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::mpc::inferArgReductionTypes(
          location, adaptor.getInput().getType(), adaptor.getAxis(),
          adaptor.getKeepdims(), inferred);
    }
  }];
}

def MPC_LayerNormOp : MPC_AccumulatingOp<"layer_norm", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "LayerNormalization";
  let summary = "layer normalisation over the dims from `axis` on";
  let description = [{
    Besides the normalised output, returns the fp32 statistics the backward
    pass reuses: the mean and the inverse standard deviation, shaped like
    the input with the normalised dims set to 1 (ONNX's Mean, InvStdDev).
  }];
  let arguments = (ins MPC_FloatTensor:$input, MPC_FloatTensor:$scale,
                       Optional<MPC_FloatTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-5">:$epsilon,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output, F32Tensor:$mean,
                      F32Tensor:$inv_std_dev);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_BatchNormOp : MPC_AccumulatingOp<"batch_norm", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "BatchNormalization";
  let summary = "batch normalisation over the channel dim (dim 1)";
  let description = [{
    In inference mode the results are `(y, mean, var)` with the running
    statistics passed through; with `training` the batch statistics
    normalise `y` and the updated running statistics are
    `momentum * running + (1 - momentum) * batch`. The batch variance
    normalising `y` is the population variance; the one entering the
    running variance is too, as ONNX specifies, unless
    `unbiased_running_variance` (PyTorch's BatchNorm) scales it by
    n / (n - 1), n the elements per channel.
  }];
  let arguments = (ins MPC_FloatTensor:$input, MPC_FloatTensor:$scale,
                       MPC_FloatTensor:$bias, MPC_FloatTensor:$mean,
                       MPC_FloatTensor:$variance,
                       DefaultValuedAttr<F32Attr, "1e-5">:$epsilon,
                       DefaultValuedAttr<F32Attr, "0.9">:$momentum,
                       UnitAttr:$training,
                       UnitAttr:$unbiased_running_variance,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output, MPC_FloatTensor:$running_mean,
                      MPC_FloatTensor:$running_variance);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    /// The gradient rule with batch statistics (`training`).
    ::mlir::LogicalResult buildTrainingGradients(
        ::mlir::OpBuilder &b, ::mlir::Value dy,
        ::llvm::SmallVectorImpl<::mlir::Value> &out);
  }];
}

def MPC_SoftmaxCrossEntropyLossOp
    : MPC_AccumulatingOp<"softmax_cross_entropy_loss", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "SoftmaxCrossEntropyLoss";
  let summary = "softmax cross entropy of scores [N, C, d...] and class labels";
  let arguments = (ins MPC_FloatTensor:$scores, MPC_IndexTensor:$labels,
                       Optional<MPC_FloatTensor>:$weights,
                       DefaultValuedAttr<MPC_LossReductionAttr,
                           "::mlir::mpc::LossReduction::Mean">:$reduction,
                       OptionalAttr<I64Attr>:$ignore_index,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$loss, MPC_FloatTensor:$log_prob);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_NegativeLogLikelihoodLossOp
    : MPC_AccumulatingOp<"negative_log_likelihood_loss", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "NegativeLogLikelihoodLoss";
  let summary = "negative log likelihood of log-probabilities [N, C, d...]";
  let arguments = (ins MPC_FloatTensor:$input, MPC_IndexTensor:$target,
                       Optional<MPC_FloatTensor>:$weight,
                       DefaultValuedAttr<MPC_LossReductionAttr,
                           "::mlir::mpc::LossReduction::Mean">:$reduction,
                       OptionalAttr<I64Attr>:$ignore_index,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$loss);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_GatherGradOp : MPC_AccumulatingOp<"gather_grad"> {
  let onnxOpType = "GatherGrad";
  let summary = "gradient of a gather with respect to its table: scatter-add";
  let description = [{
    The transpose of gathering along the middle dim: for a gather of
    `num_rows` rows, `grad` is [O, K, I] (O the dims before the gathered
    axis, K the indices, I the dims after it) and the result [O, num_rows,
    I] is zero but for `result[o, indices[k], i] += grad[o, k, i]`, rows
    gathered several times accumulating every gradient (an embedding's
    repeated tokens). Negative indices count from the end; an index out
    of range adds nothing. The gradient rule of `mpc.gather` reshapes to
    and from this form.
  }];
  let arguments = (ins MPC_FloatTensor:$grad, MPC_IndexTensor:$indices,
                       I64Attr:$num_rows, MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$table_grad);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_SoftmaxCrossEntropyLossGradOp
    : MPC_AccumulatingOp<"softmax_cross_entropy_loss_grad"> {
  let onnxOpType = "SoftmaxCrossEntropyLossGrad";
  let summary = "gradient of softmax cross entropy with respect to the scores";
  let description = [{
    `(softmax(scores) - onehot(labels)) * weight[label] * loss_grad`,
    divided by the sum of the label weights for `mean`; zero where the
    label is `ignore_index`. `log_prob` is the loss op's second result,
    so the softmax is not recomputed.
  }];
  let arguments = (ins MPC_FloatTensor:$log_prob, MPC_IndexTensor:$labels,
                       MPC_FloatTensor:$loss_grad,
                       Optional<MPC_FloatTensor>:$weights,
                       DefaultValuedAttr<MPC_LossReductionAttr,
                           "::mlir::mpc::LossReduction::Mean">:$reduction,
                       OptionalAttr<I64Attr>:$ignore_index,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$scores_grad);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_NegativeLogLikelihoodLossGradOp
    : MPC_AccumulatingOp<"negative_log_likelihood_loss_grad"> {
  let onnxOpType = "NegativeLogLikelihoodLossGrad";
  let summary = "gradient of the negative log likelihood with respect to its input";
  let description = [{
    `-onehot(labels) * weight[label] * loss_grad`, divided by the sum of
    the label weights for `mean`; zero where the label is `ignore_index`
    and at every other class. `log_prob` (the loss's input) gives the
    result's shape and type; its values are not read.
  }];
  let arguments = (ins MPC_FloatTensor:$log_prob, MPC_IndexTensor:$labels,
                       MPC_FloatTensor:$loss_grad,
                       Optional<MPC_FloatTensor>:$weights,
                       DefaultValuedAttr<MPC_LossReductionAttr,
                           "::mlir::mpc::LossReduction::Mean">:$reduction,
                       OptionalAttr<I64Attr>:$ignore_index,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$input_grad);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Training: optimizer updates and loss scaling (all fp32)
//===----------------------------------------------------------------------===//

def MPC_SGDUpdateOp : MPC_Op<"sgd_update", [Pure,
    AllTypesMatch<["param", "grad", "new_param"]>,
    AllTypesMatch<["lr", "weight_decay"]>]> {
  let onnxOpType = "SGDUpdate";
  let summary = "SGD step: param - lr * (grad + weight_decay * param)";
  let arguments = (ins MPC_FloatTensor:$param, MPC_FloatTensor:$grad,
                       0DTensorOf<[F32]>:$lr,
                       0DTensorOf<[F32]>:$weight_decay);
  let results = (outs MPC_FloatTensor:$new_param);
  let assemblyFormat = "operands attr-dict `:` type($param) `,` type($lr)";
}

def MPC_MomentumUpdateOp : MPC_Op<"momentum_update", [Pure,
    AllTypesMatch<["param", "grad", "buffer", "new_param", "new_buffer"]>,
    AllTypesMatch<["lr", "weight_decay"]>]> {
  let onnxOpType = "MomentumUpdate";
  let summary = "SGD with momentum (and nesterov), as torch.optim.SGD";
  let description = [{
    `d = grad + weight_decay * param`; `buffer = momentum * buffer +
    (1 - dampening) * d` (the first step, `step == 0`, takes `buffer = d`);
    `param -= lr * (nesterov ? d + momentum * buffer : buffer)`.
  }];
  let arguments = (ins MPC_FloatTensor:$param, MPC_FloatTensor:$grad,
                       MPC_FloatTensor:$buffer, 0DTensorOf<[F32]>:$lr,
                       0DTensorOf<[I64]>:$step,
                       0DTensorOf<[F32]>:$weight_decay,
                       DefaultValuedAttr<F32Attr, "0.9">:$momentum,
                       DefaultValuedAttr<F32Attr, "0.0">:$dampening,
                       UnitAttr:$nesterov);
  let results = (outs MPC_FloatTensor:$new_param, MPC_FloatTensor:$new_buffer);
  let assemblyFormat =
      "operands attr-dict `:` type($param) `,` type($lr) `,` type($step)";
}

def MPC_AdamUpdateOp : MPC_Op<"adam_update", [Pure,
    AllTypesMatch<["param", "grad", "m", "v", "new_param", "new_m", "new_v"]>,
    AllTypesMatch<["lr", "weight_decay"]>]> {
  let onnxOpType = "AdamUpdate";
  let summary = "Adam / AdamW step with bias correction, as torch.optim";
  let description = [{
    `step` counts completed steps (this one is `step + 1`), an integer so
    that it counts past 2^24 (where an f32 counter stops and the bias
    correction would freeze). Adam adds
    `weight_decay * param` to the gradient; with `decoupled` (AdamW) the
    parameter decays by `lr * weight_decay` instead.
    `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
    `param -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)`.
  }];
  let arguments = (ins MPC_FloatTensor:$param, MPC_FloatTensor:$grad,
                       MPC_FloatTensor:$m, MPC_FloatTensor:$v,
                       0DTensorOf<[F32]>:$lr, 0DTensorOf<[I64]>:$step,
                       0DTensorOf<[F32]>:$weight_decay,
                       DefaultValuedAttr<F32Attr, "0.9">:$beta1,
                       DefaultValuedAttr<F32Attr, "0.999">:$beta2,
                       DefaultValuedAttr<F32Attr, "1.0e-8">:$epsilon,
                       UnitAttr:$decoupled);
  let results = (outs MPC_FloatTensor:$new_param, MPC_FloatTensor:$new_m,
                      MPC_FloatTensor:$new_v);
  let assemblyFormat =
      "operands attr-dict `:` type($param) `,` type($lr) `,` type($step)";
}

def MPC_UnscaleGradientsOp : MPC_Op<"unscale_gradients", [Pure,
    SameVariadicResultSize]> {
  let onnxOpType = "UnscaleGradients";
  let summary = "divide gradients by the loss scale; one fused finite check";
  let description = [{
    Returns each gradient divided by `scale` (in fp32) and one boolean that
    is true when every element of every gradient is finite -- a single
    pass over all gradients, as torch's `_amp_foreach_non_finite_check_and_unscale_`.
  }];
  let arguments = (ins Variadic<MPC_FloatTensor>:$gradients,
                       0DTensorOf<[F32]>:$scale);
  let results = (outs Variadic<MPC_FloatTensor>:$unscaled,
                      0DTensorOf<[I1]>:$finite);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MPC_UpdateLossScaleOp : MPC_Op<"update_loss_scale", [Pure,
    AllTypesMatch<["scale", "new_scale"]>,
    AllTypesMatch<["clean_steps", "new_clean_steps"]>]> {
  let onnxOpType = "UpdateLossScale";
  let summary = "dynamic loss scale: back off on overflow, grow when clean";
  let description = [{
    Not finite: `scale * backoff_factor`, clean steps reset to 0. Finite:
    clean steps + 1, and when they reach `growth_interval` the scale grows
    by `growth_factor` (capped at `max_scale`) and they reset to 0.
  }];
  let arguments = (ins 0DTensorOf<[F32]>:$scale,
                       0DTensorOf<[I64]>:$clean_steps,
                       0DTensorOf<[I1]>:$finite,
                       DefaultValuedAttr<F32Attr, "2.0">:$growth_factor,
                       DefaultValuedAttr<F32Attr, "0.5">:$backoff_factor,
                       DefaultValuedAttr<I64Attr, "2000">:$growth_interval,
                       DefaultValuedAttr<F32Attr, "16777216.0">:$max_scale);
  let results = (outs 0DTensorOf<[F32]>:$new_scale,
                      0DTensorOf<[I64]>:$new_clean_steps);
  let assemblyFormat = "operands attr-dict `:` type($scale) `,` "
                       "type($clean_steps) `,` type($finite)";
}

def MPC_DropoutOp : MPC_ComputeOp<"dropout", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Dropout";
  let summary = "dropout; identity with an all-true mask unless `training`";
  let description = [{
    With `training`, element i is kept with probability 1 - `ratio` and
    scaled by 1 / (1 - ratio). The mask is a counter-based random function
    of (`key`, `stream`, i): SplitMix64's output function over the
    element's linear index, offset by the key and the stream. A training
    program passes a key that changes every step (from its seed and step
    count, both training state) and gives each Dropout its own `stream`,
    so masks differ per step and per layer, and a resumed run draws the
    same masks as an uninterrupted one. `seed` is ONNX's attribute, kept
    for the record: the training program's seed decides.
  }];
  let arguments = (ins MPC_FloatTensor:$input,
                       Optional<0DTensorOf<[I64]>>:$key,
                       DefaultValuedAttr<F32Attr, "0.5">:$ratio,
                       UnitAttr:$training,
                       OptionalAttr<I64Attr>:$seed,
                       DefaultValuedAttr<I64Attr, "0">:$stream,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output, MPC_BoolTensor:$mask);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement and shapes
//===----------------------------------------------------------------------===//

def MPC_IdentityOp : MPC_DataOp<"identity", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Identity";
  let arguments = (ins MPC_Tensor:$input);
  let results = (outs MPC_Tensor:$output);
  let hasFolder = 1;
}

def MPC_ReshapeOp : MPC_DataOp<"reshape", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Reshape";
  let summary = "reshape to a runtime shape (0 copies the input dim unless allowzero, -1 infers)";
  let arguments = (ins MPC_Tensor:$input, MPC_ShapeTensor:$shape,
                       UnitAttr:$allowzero);
  let results = (outs MPC_Tensor:$output);
  let hasFolder = 1;
}

def MPC_FlattenOp : MPC_DataOp<"flatten", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Flatten";
  let summary = "reshape to 2-d: dims before `axis` and from `axis` on";
  let arguments = (ins MPC_Tensor:$input, DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs MPC_Tensor:$output);
}

def MPC_TransposeOp : MPC_DataOp<"transpose", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Transpose";
  let arguments = (ins MPC_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs MPC_Tensor:$output);
  let hasFolder = 1;
}

def MPC_ConcatOp : MPC_DataOp<"concat", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Concat";
  let arguments = (ins Variadic<MPC_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs MPC_Tensor:$output);
  let hasFolder = 1;
}

def MPC_SplitOp : MPC_DataOp<"split", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Split";
  let summary = "split along `axis` into pieces of `sizes`";
  let arguments = (ins MPC_Tensor:$input, I64Attr:$axis,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<MPC_Tensor>:$outputs);
}

def MPC_SliceOp : MPC_DataOp<"slice", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Slice";
  let summary = "strided slice with ONNX clamping of starts and ends";
  let arguments = (ins MPC_Tensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$axes,
                       DenseI64ArrayAttr:$steps);
  let results = (outs MPC_Tensor:$output);
  let hasFolder = 1;
}

def MPC_SqueezeOp : MPC_DataOp<"squeeze", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Squeeze";
  let summary = "remove size-1 dims `axes` (all size-1 dims when empty)";
  let arguments = (ins MPC_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs MPC_Tensor:$output);
  let hasFolder = 1;
}

def MPC_UnsqueezeOp : MPC_DataOp<"unsqueeze", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Unsqueeze";
  let summary = "insert size-1 dims at `axes` (positions in the result)";
  let arguments = (ins MPC_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs MPC_Tensor:$output);
  let hasFolder = 1;
}

def MPC_GatherOp : MPC_DataOp<"gather", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Gather";
  let summary = "gather slices along `axis`; negative indices count from the end";
  let arguments = (ins MPC_Tensor:$input, MPC_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs MPC_Tensor:$output);
  let hasFolder = 1;
}

def MPC_GatherElementsOp : MPC_DataOp<"gather_elements", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "GatherElements";
  let summary = "output[i...] = input[i... with indices[i...] on `axis`]";
  let description = [{
    The result has the indices' shape; negative indices count from the end
    of `axis`. Indices out of range are undefined behaviour in ONNX; here
    they are clamped into range (never a read outside the tensor).
  }];
  let arguments = (ins MPC_Tensor:$input, MPC_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs MPC_Tensor:$output);
}

def MPC_ScatterElementsOp : MPC_DataOp<"scatter_elements"> {
  let onnxOpType = "ScatterElements";
  let summary = "a copy of `input` with `updates` written (or combined) at "
                "the positions `indices` names on `axis`";
  let description = [{
    Updates are applied in the row-major order of `indices`, so with
    `reduction = none` a repeated index keeps the last update (ONNX leaves
    that order undefined; onnxruntime also applies them in order).
    Out-of-range indices are clamped into range.
  }];
  let arguments = (ins MPC_Tensor:$input, MPC_IndexTensor:$indices,
                       MPC_Tensor:$updates,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedAttr<MPC_ScatterReductionAttr,
                           "::mlir::mpc::ScatterReduction::None">:$reduction);
  let results = (outs MPC_Tensor:$output);
  let hasVerifier = 1;
}

def MPC_GatherNDOp : MPC_DataOp<"gather_nd"> {
  let onnxOpType = "GatherND";
  let summary = "slices of `input` at the index tuples in the last dim of "
                "`indices` (ONNX GatherND)";
  let description = [{
    The first `batch_dims` dims of input and indices are matched; each
    tuple of k indices (i_0 to i_k-1) picks the slice input[batch..., i_0, ...].
    Negative indices count from the end; out-of-range ones are clamped.
  }];
  let arguments = (ins MPC_Tensor:$input, RankedTensorOf<[I64]>:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs MPC_Tensor:$output);
}

def MPC_ScatterNDOp : MPC_DataOp<"scatter_nd"> {
  let onnxOpType = "ScatterND";
  let summary = "a copy of `input` with the slices `updates` written (or "
                "combined) at the index tuples of `indices`";
  let description = [{
    Updates apply in the row-major order of the index tuples (a repeated
    tuple with `reduction = none` keeps the last). Negative indices count
    from the end; out-of-range ones are clamped.
  }];
  let arguments = (ins MPC_Tensor:$input, RankedTensorOf<[I64]>:$indices,
                       MPC_Tensor:$updates,
                       DefaultValuedAttr<MPC_ScatterReductionAttr,
                           "::mlir::mpc::ScatterReduction::None">:$reduction);
  let results = (outs MPC_Tensor:$output);
}

def MPC_ExpandOp : MPC_DataOp<"expand", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Expand";
  let summary = "broadcast to a runtime shape (bidirectional, as ONNX Expand)";
  let arguments = (ins MPC_Tensor:$input, MPC_ShapeTensor:$shape);
  let results = (outs MPC_Tensor:$output);
}

def MPC_TileOp : MPC_DataOp<"tile"> {
  let onnxOpType = "Tile";
  let summary = "repeat the input `repeats[i]` times along each dim i (ONNX Tile)";
  let description = [{
    Output element (i_0, ..., i_{r-1}) is input element
    (i_0 mod d_0, ..., i_{r-1} mod d_{r-1}). `mpc-decompose` rewrites it,
    for static shapes, as a broadcast of the input over a unit dim inserted
    before each repeated dim and a reshape that merges each pair, so its
    lowering and its gradient (the sum over the repeats) are those of
    `mpc.expand` and `mpc.reshape`.
  }];
  let arguments = (ins MPC_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs MPC_Tensor:$output);
}

def MPC_PadOp : MPC_ComputeOp<"pad", [DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Pad";
  let summary = "pad every dim by `pads` (all begins, then all ends)";
  let arguments = (ins MPC_Tensor:$input, DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<MPC_PadModeAttr,
                                         "::mlir::mpc::PadMode::Constant">:$mode,
                       DefaultValuedAttr<F64Attr, "0.0">:$value,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_ResizeOp : MPC_ComputeOp<"resize"> {
  let onnxOpType = "Resize";
  let summary = "resize the trailing dims to `sizes` by interpolation";
  let description = [{
    `scales` are the scale factors the output coordinates are mapped back
    with (ONNX's scales, or sizes / input sizes when sizes were given);
    `sizes` is the output shape, -1 where the input dim is dynamic.
  }];
  let arguments = (ins MPC_FloatTensor:$input, DenseF32ArrayAttr:$scales,
                       DenseI64ArrayAttr:$sizes,
                       DefaultValuedAttr<MPC_ResizeModeAttr,
                                         "::mlir::mpc::ResizeMode::Nearest">:$mode,
                       DefaultValuedAttr<MPC_CoordinateTransformAttr,
                           "::mlir::mpc::CoordinateTransform::HalfPixel">:$coordinate_transform,
                       DefaultValuedAttr<MPC_NearestModeAttr,
                           "::mlir::mpc::NearestMode::RoundPreferFloor">:$nearest_mode,
                       DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                       UnitAttr:$exclude_outside,
                       DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value,
                       MPC_OptPrecision:$precision);
  let results = (outs MPC_FloatTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MPC_ShapeOp : MPC_DataOp<"shape"> {
  let onnxOpType = "Shape";
  let summary = "the input's shape as a 1-d i64 tensor (dims [start, end))";
  let arguments = (ins MPC_Tensor:$input,
                       DefaultValuedAttr<I64Attr, "0">:$start,
                       OptionalAttr<I64Attr>:$end);
  let results = (outs MPC_ShapeTensor:$output);
  let hasFolder = 1;
}

def MPC_ConstantOp : MPC_Op<"constant",
    [ConstantLike, Pure, MPC_InferTypes]> {
  let onnxOpType = "Constant";
  let summary = "a constant tensor (ONNX Constant nodes, small integer initializers)";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs MPC_Tensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def MPC_ConvertOp : MPC_Op<"convert", [Pure, SameOperandsAndResultShape,
    DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let onnxOpType = "Cast";
  let summary = "ONNX Cast: convert element type (part of the model's semantics)";
  let arguments = (ins MPC_Tensor:$input);
  let results = (outs MPC_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($output)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// mpc's own ops
//===----------------------------------------------------------------------===//

def MPC_CastOp : MPC_Op<"cast", [Pure,
    DeclareOpInterfaceMethods<CastOpInterface>, DeclareOpInterfaceMethods<MPC_GradientOpInterface>]> {
  let summary = "precision boundary inserted by the compiler";
  let description = [{
    Converts a floating-point tensor to another floating-point element type
    with round-to-nearest-even. Unlike `mpc.convert` (ONNX Cast), it is not
    part of the model: the precision passes insert, move and remove it.
  }];
  let arguments = (ins MPC_FloatTensor:$input);
  let results = (outs MPC_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($output)";
  let hasFolder = 1;
}

def MPC_ParameterOp : MPC_Op<"parameter", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a named model parameter (ONNX initializer) and its initial value";
  let description = [{
    The initial value is normally a `dense_resource` blob so that the IR of
    a large model stays small. `trainable` marks the parameters the training
    program differentiates and updates (by default the float initializers).
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, ElementsAttr:$value,
                       UnitAttr:$trainable);
  let assemblyFormat = "$sym_name (`trainable` $trainable^)? `=` $value attr-dict";
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getValue().getType());
    }
  }];
  let hasVerifier = 1;
}

def MPC_GetParameterOp : MPC_Op<"get_parameter", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the current value of a parameter";
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs MPC_Tensor:$output);
  let assemblyFormat = "$name attr-dict `:` type($output)";
}

#endif // MPC_DIALECT_MPC_IR_MPCOPS_TD
